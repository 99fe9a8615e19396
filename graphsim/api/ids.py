"""Global ids: one opaque ``ID`` per entity of a world, behind the ``Node`` interface.

An id is the URL-safe base64 (unpadded) of ``TYPE``, the world's name and the entity's node
key (an ARN for IAM entities and resources; ``ARN#Statement[N]`` for a statement; the OU or
root key for organization units), packed as tokens.py packs every opaque token. It is therefore stable
across restarts and rebuilds of the same world, differs between a world and its fork (the same
user in two worlds is two entities), and needs no table. Clients must not take one apart: the
format may change under a new prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from ..errors import GraphsimError
from .tokens import pack, unpack

_PREFIX = "gsn1"
# The GraphQL types that implement Node, by the name an id carries.
TYPES = ("Account", "User", "Group", "Role", "Policy", "Statement", "Resource", "OrgUnit", "OrgPolicy")


class InvalidIdError(GraphsimError):
    code = "INVALID_ID"


@strawberry.interface(description="An entity of a world with a global id: `node(id:)` fetches it again.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque, stable for this entity of this world (across restarts); differs in a fork.")


@dataclass(frozen=True)
class GlobalId:
    type: str
    world: str
    key: str

    def encode(self) -> strawberry.ID:
        return strawberry.ID(pack((_PREFIX, self.type, self.world, self.key)))

    @classmethod
    def decode(cls, text: str, *, field: str = "id") -> GlobalId:
        try:
            prefix, type_, world, key = unpack(text, 3)  # the key last: whatever it holds stays whole
        except ValueError:
            raise InvalidIdError(f"{_shown(text)} is not an id graphsim made; ids come from an entity's `id` field", field=field) from None
        if prefix != _PREFIX or type_ not in TYPES or not world or not key:
            raise InvalidIdError(f"{_shown(text)} is not an id graphsim made; ids come from an entity's `id` field", field=field)
        return cls(type_, world, key)


def _shown(text: str) -> str:
    """An id as a message quotes it: a long one cut, so a 100,000-character id is not echoed."""
    return repr(text) if len(text) <= 80 else repr(text[:60]) + f"... ({len(text):,} characters)"


def global_id(type_: str, world: str, key: str) -> strawberry.ID:
    return GlobalId(type_, world, key).encode()
