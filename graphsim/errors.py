"""One small error hierarchy: every expected failure is a ``GraphsimError`` with structured fields.

The API and the CLI translate these into typed GraphQL errors and exit codes; nothing here
knows about either.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about an input: where it is (a JSON path), which rule it breaks, what was given."""

    path: str
    rule: str
    value: object = None

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}" if self.path else self.rule


MESSAGE_PROBLEMS = 20  # problems spelled out in an error's message; its structured list holds them all


def problem_list(parts: list[str]) -> str:
    """Problems joined for a message: the first MESSAGE_PROBLEMS, then how many more (a file
    with thousands of bad entries must not make a message of megabytes)."""
    shown = "; ".join(parts[:MESSAGE_PROBLEMS])
    if len(parts) > MESSAGE_PROBLEMS:
        shown += f"; and {len(parts) - MESSAGE_PROBLEMS:,} more problems (each is listed in problems)"
    return shown


class GraphsimError(Exception):
    """Base of every error graphsim raises on purpose."""

    code = "GRAPHSIM_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def extensions(self) -> dict[str, object]:
        ext: dict[str, object] = {"code": self.code}
        if self.field is not None:
            ext["field"] = self.field
        return ext


class PolicyValidationError(GraphsimError):
    """A policy document breaks the grammar; ``problems`` lists every problem, not only the first."""

    code = "INVALID_POLICY"

    def __init__(self, problems: list[Problem], *, field: str | None = None, source: str = "policy") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"invalid {source}: {lines}", field=field)

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["problems"] = [{"path": p.path, "rule": p.rule} for p in self.problems]
        return ext


class NotFoundError(GraphsimError):
    """A named entity (user, group, policy, world, ...) does not exist."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, name: str, *, field: str | None = None, hint: str = "") -> None:
        self.kind = kind
        self.name = name
        message = f"no {kind} named {name!r}"
        if hint:
            message += f"; {hint}"
        super().__init__(message, field=field)


class ConflictError(GraphsimError):
    """The change would break an invariant: a duplicate name, a policy still attached, ..."""

    code = "CONFLICT"


class InvalidRequestError(GraphsimError):
    """A request argument is malformed: an empty action, a resource that is not an ARN, ..."""

    code = "INVALID_INPUT"


class UnreadableWorldError(GraphsimError):
    """A world of the store cannot be rebuilt (a damaged snapshot or change); the other worlds
    are still served, and this one is named with the reason whenever it is asked for."""

    code = "UNREADABLE_WORLD"

    def __init__(self, name: str, reason: str, *, field: str | None = "world") -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"world {name!r} cannot be read from the store: {reason}", field=field)

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["world"] = self.name
        ext["reason"] = self.reason
        return ext


class UnknownActionError(InvalidRequestError):
    """The requested action is not in AWS's Service Authorization Reference."""

    code = "UNKNOWN_ACTION"

    def __init__(self, action: str, suggestions: list[str], *, field: str | None = "action", reason: str = "") -> None:
        self.action = action
        self.suggestions = list(suggestions)
        message = reason or f"unknown action {action!r}"
        if self.suggestions:
            message += "; did you mean " + ", ".join(self.suggestions) + "?"
        super().__init__(message, field=field)

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["suggestions"] = self.suggestions
        return ext


class StoreBusyError(ConflictError):
    """Another process held the store's write lock for longer than graphsim waits; nothing was
    changed and the same request may simply be sent again."""

    code = "STORE_BUSY"

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["retryable"] = True
        return ext


class VersionConflictError(StoreBusyError):
    """Another writer (another process or replica) changed the world between this process's
    reading it and its writing: the world's version is the optimistic lock. Nothing was changed;
    the same request sent again is answered against the newer version."""

    code = "VERSION_CONFLICT"

    def __init__(self, world: str, expected: int, *, field: str | None = "world") -> None:
        self.world = world
        self.expected = expected
        super().__init__(f"world {world!r} was changed by another writer while this change was made (it is no longer at version {expected}); nothing was changed, send the change again", field=field)

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["retryable"] = True
        ext["world"] = self.world
        return ext


# The name the workspace's retry (graphsim serve --workers) first gave it.
WorldChangedError = VersionConflictError


class StoreUnavailableError(GraphsimError):
    """The store's database server cannot be reached (down, restarting, refusing the login);
    nothing was changed, and the request may be sent again once it is back."""

    code = "STORE_UNAVAILABLE"

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["retryable"] = True
        return ext
