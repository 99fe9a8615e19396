"""Names in a request resolved against a world: principals (name, ARN, session ARN, an
account's root user), resources (ARN, ``*``, bucket name) and simulatePrincipalPolicy's source.
"""

from __future__ import annotations

from ..arn import Arn, InvalidArnError, s3_arn
from ..errors import InvalidRequestError, NotFoundError
from ..world import NodeKind, World
from .bounds import check_arn


def validate_resource_arn(resource: str, *, field: str = "resource") -> str:
    """A request's resource must be ``*`` or a well-formed ARN (users asked for malformed ARNs
    such as ``arn:aws::s3:*`` to be rejected rather than silently denied)."""
    if resource == "*":
        return resource
    check_arn(resource, field=field, what="a resource ARN")
    try:
        Arn.parse(resource, field=field)
    except InvalidArnError as exc:
        raise InvalidRequestError(
            f"resource {resource!r} is not an ARN of the form arn:partition:service:region:account:resource (or '*'): {exc.reason}",
            field=field,
        ) from None
    if any(c in resource for c in "*?"):
        raise InvalidRequestError(f"a request names one resource; wildcards are not allowed in {resource!r}", field=field)
    return resource



class Resolver:
    """Resolves the names of requests against one world; principal names are cached until the
    world changes (``clear``)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._names: dict[str, tuple[str, str | None]] = {}

    def clear(self) -> None:
        self._names.clear()

    def principal(self, text: str, *, field: str = "principal", allow_root: bool = False) -> tuple[str, str | None]:
        """(node key, session name) of a user or role given by name, ARN, or assumed-role
        session ARN (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``); with ``allow_root``,
        also the root user of an account of the world (``arn:aws:iam::ACCOUNT:root``)."""
        check_arn(text, field=field, what="a principal")
        if allow_root and text in self.world.graph and self.world.kind_of(text) is NodeKind.ACCOUNT:
            return text, None
        cached = self._names.get(text)
        if cached is not None:
            return cached
        world = self.world
        if not text or not text.strip():
            raise InvalidRequestError("principal must not be empty", field=field)
        session: str | None = None
        if text.startswith("arn:aws:sts::"):
            parsed = Arn.maybe(text)
            pieces = None if parsed is None else parsed.session_parts
            if parsed is None or pieces is None:
                raise InvalidRequestError(f"{text!r} is not an assumed-role session ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)", field=field)
            roles = [k for k in world.named(NodeKind.ROLE, pieces[0]) if world.account_of(k) == parsed.account]
            if not roles:
                raise NotFoundError("role", f"{pieces[0]} in account {parsed.account}", field=field)
            key, session = roles[0], pieces[1]
        elif text in world.graph:
            kind = world.kind_of(text)
            if kind is NodeKind.GROUP:
                raise InvalidRequestError("a group is never a principal; ask about one of its members", field=field)
            if kind not in (NodeKind.USER, NodeKind.ROLE):
                hint = " (ask can about it to question its root user)" if kind is NodeKind.ACCOUNT else ""
                raise InvalidRequestError(f"{text} is a {kind.value}, not a user or role{hint}", field=field)
            key = text
        else:
            found = world.named(NodeKind.USER, text) + world.named(NodeKind.ROLE, text)
            if not found:
                if world.named(NodeKind.GROUP, text):
                    raise InvalidRequestError(f"{text!r} is a group, and a group is never a principal; ask about one of its members", field=field)
                users = sorted(d["name"] for _, d in world.principals_of(NodeKind.USER))
                raise NotFoundError("user or role", text, field=field, hint=f"this world has users {', '.join(users[:10])}" if users else "")
            if len(found) > 1:
                raise InvalidRequestError(f"{text!r} names several principals ({', '.join(sorted(found))}); give the ARN", field=field)
            key = found[0]
        self._names[text] = (key, session)
        return key, session

    def resource(self, text: str, *, field: str = "resource") -> str:
        """An ARN or ``*``; a bucket name (or ``bucket/key``) of an S3 bucket in the world is
        accepted for convenience."""
        check_arn(text, field=field, what="a resource")
        if not text or not text.strip():
            raise InvalidRequestError("resource must not be empty (give an ARN, '*', or a bucket name)", field=field)
        if not text.startswith("arn:") and text != "*":
            bucket = text.split("/", 1)[0]
            if s3_arn(bucket) in self.world.graph:
                return s3_arn(text)
            raise InvalidRequestError(f"resource {text!r} is neither an ARN, '*', nor a bucket of this world", field=field)
        return validate_resource_arn(text, field=field)

    def policy_source(self, text: str, *, field: str = "policySourceArn") -> str:
        """A user, group or role (ARN or name), as AWS's SimulatePrincipalPolicy accepts."""
        check_arn(text, field=field, what="a policy source")
        world = self.world
        if text in world.graph and world.kind_of(text) in (NodeKind.USER, NodeKind.GROUP, NodeKind.ROLE):
            return text
        for kind in (NodeKind.USER, NodeKind.ROLE, NodeKind.GROUP):
            try:
                return world.find(kind, text, field=field)
            except NotFoundError:
                continue
        raise NotFoundError("user, group or role", text, field=field)
