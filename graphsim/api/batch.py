"""Many questions in one request: ``canMany`` answers a list of ``can`` questions against one
world version, for scripts and frontends that ask many at once (an access review's grid, a CI
check of a hundred expectations). Each answer is a ``Decision`` or, for that question alone,
the typed error ``can`` would have raised (``NotFound``, ``InvalidInput``, ``InvalidPolicy``),
its ``field`` naming the question (``questions[3].action``); the others are answered all the
same. At most ``MAX_QUESTIONS`` questions per request (``TOO_MANY_QUESTIONS``): send them as
variables, so the document stays small whatever their number.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from ..errors import GraphsimError, InvalidRequestError
from .context import workspace
from .decision import AnsweringWorld, Decision
from .errors import InvalidInput, InvalidPolicy, NotFound, typed_errors, user_error
from .inputs import ContextEntryInput, to_context

MAX_QUESTIONS = 10_000


class TooManyQuestionsError(InvalidRequestError):
    code = "TOO_MANY_QUESTIONS"

    def __init__(self, asked: int) -> None:
        self.asked = asked
        super().__init__(f"at most {MAX_QUESTIONS:,} questions per canMany request; this one asks {asked:,} (split it into several)", field="questions")

    def extensions(self) -> dict[str, object]:
        return {**super().extensions(), "limit": MAX_QUESTIONS, "asked": self.asked}


@strawberry.input(description="One question of canMany: the arguments of can.")
class CanQuestion:
    principal: str
    action: str
    resource: str
    context: list[ContextEntryInput] | None = None
    session_policy: str | None = strawberry.field(default=None, description="A session policy (JSON), for a role or session principal.")
    via_roles: bool = strawberry.field(default=False, description="If not allowed directly, also try the roles the principal can assume.")


CanAnswer = Annotated[Decision | NotFound | InvalidInput | InvalidPolicy, strawberry.union("CanAnswer", description="A question's decision, or why that question could not be answered.")]


@strawberry.type
class BatchQuery:
    @strawberry.field(description=f"Many can questions in one request, answered in order against one version of the world; at most {MAX_QUESTIONS:,}.")
    @typed_errors
    def can_many(self, info: Info, questions: list[CanQuestion], world: str | None = None) -> list[CanAnswer]:
        if len(questions) > MAX_QUESTIONS:
            raise TooManyQuestionsError(len(questions))
        engine = workspace(info).engine(world)
        answering = AnsweringWorld(name=engine.world.name, version=engine.world.version)
        answers: list[Decision | NotFound | InvalidInput | InvalidPolicy] = []
        for i, q in enumerate(questions):
            try:
                decision = engine.can(q.principal, q.action, q.resource, to_context(q.context), session_policy=q.session_policy, via_roles=q.via_roles)
            except GraphsimError as exc:
                error = user_error(exc)
                error.field = f"questions[{i}]" + (f".{exc.field}" if exc.field else "")
                answers.append(error)  # type: ignore[arg-type]
            else:
                answers.append(Decision.of(decision, answering))
        return answers
