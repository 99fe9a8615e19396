"""What if: the same questions asked before and after hypothetical changes, on a copy of the
world; nothing is committed.

Changes are the world's commands (``graphsim.world.commands``), given by the API's mutation
names and argument names (``attachGroupPolicy`` with ``{"group": "HR", "policy":
"ReadOnlyAccess"}``): what-if applies exactly what the mutation would, so a review script can
try what it would later apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import ContextEntry, Decision, Engine
from ..errors import GraphsimError, NotFoundError
from ..world import World
from ..world.commands import Command, parse_command
from ..world.io import world_from_dict, world_to_dict

ChangeInput = Command[Any] | tuple[str, object]  # a command, or (mutation name, its arguments as JSON)

@dataclass(frozen=True, slots=True)
class Question:
    principal: str
    action: str
    resource: str
    context: tuple[ContextEntry, ...] = ()
    expect: str | None = None  # the decision expected after the changes (DENIED: either deny), if any


ABSENT = "ABSENT"  # the principal does not exist on that side of the change
DENIED = "DENIED"  # an expectation met by either deny


def meets(expect: str, got: str) -> bool:
    """Whether the decision ``got`` (a DecisionKind value, or ABSENT) is the one expected;
    ``DENIED`` is met by anything but ALLOWED."""
    return got == expect or (expect == DENIED and got != "ALLOWED")


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    question: Question
    before: Decision | None  # None: the principal does not exist before the changes
    after: Decision | None  # None: the principal does not exist after them

    @property
    def before_kind(self) -> str:
        return ABSENT if self.before is None else self.before.decision.value

    @property
    def after_kind(self) -> str:
        return ABSENT if self.after is None else self.after.decision.value

    @property
    def changed(self) -> bool:
        return self.before_kind != self.after_kind

    @property
    def met(self) -> bool | None:
        """Whether the answer after the changes is the question's ``expect`` (None without one)."""
        return None if self.question.expect is None else meets(self.question.expect, self.after_kind)


def parse_changes(changes: Sequence[ChangeInput]) -> list[Command[Any]]:
    """The commands of a change list; a bad one names its index and field
    (``changes[1].arguments.user``)."""
    return [c if isinstance(c, Command) else parse_command(c[0], c[1], path=f"changes[{i}]") for i, c in enumerate(changes)]


def apply_changes(world: World, changes: Sequence[ChangeInput]) -> World:
    """A copy of ``world`` with the changes applied; a change the world refuses names its index."""
    commands = parse_changes(changes)
    copy = world_from_dict(world_to_dict(world), source=f"what-if copy of {world.name}", name=f"{world.name} (what if)")
    for i, command in enumerate(commands):
        try:
            command.apply(copy, provenance=f"what-if change {i} ({command.summary})")
        except GraphsimError as exc:
            # Keep the error's type (NotFound, InvalidPolicy, ...), and say which change failed.
            exc.message = f"changes[{i}] ({command.command_name}): {exc.message}"
            exc.field = f"changes[{i}].arguments"
            raise
    return copy


def what_if(engine: Engine, changes: Sequence[ChangeInput], questions: Sequence[Question]) -> list[WhatIfResult]:
    after = Engine(apply_changes(engine.world, changes))
    return [WhatIfResult(q, _ask(engine, q, i), _ask(after, q, i)) for i, q in enumerate(questions)]


def _ask(engine: Engine, q: Question, index: int) -> Decision | None:
    """The decision, or None when the principal does not exist in this world (a change may
    create or delete it); any other bad input names the question."""
    try:
        engine.resolve_principal(q.principal)
    except NotFoundError:
        return None
    try:
        return engine.can(q.principal, q.action, q.resource, q.context)
    except GraphsimError as exc:
        exc.message = f"questions[{index}]: {exc.message}"
        exc.field = f"questions[{index}].{exc.field}" if exc.field else f"questions[{index}]"
        raise
