"""The engine's decision for one principal and action, without building the principal's whole
identity policy set.

``Engine.evaluate`` gathers every statement of a principal's policies once, then answers any
action fast; the first question about each principal pays for gathering them all (about 2 ms
for a synthetic user with 40 statements). A question asked of many principals once ("who can
ec2:StopInstances?") only needs, per principal, the few policies that speak to that action.
``FastDecider`` gathers exactly those, in the engine's order, with the same paths, and hands
them to the engine's own ``layers.decide``: the Decision is the engine's, field for field (the
identity layer's policy count is the principal's full count). When the engine already holds a
principal's policy set, it simply asks the engine.

The decision logic and the gathering stay in the engine (``Engine.evaluate`` with overriding
identity policies, ``World.identity_policies(only=...)``); this module only picks the policies.
The analysis tests compare the two, decision for decision.
"""

from __future__ import annotations

from dataclasses import replace

from .. import catalog
from ..engine import ContextEntry, Decision, Engine, Layer, LayerVerdict
from ..policy import Statement
from ..world import EdgeKind, World
from .index import WorldIndex, world_index

_MEMBER_OF = EdgeKind.MEMBER_OF.value


class FastDecider:
    """Decides (principal, action, resource) like ``Engine.evaluate`` for principals whose policy
    sets the engine has not built yet. One instance per question batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.world: World = engine.world
        self.index: WorldIndex = world_index(engine.world)
        self._speaking: dict[str, frozenset[str]] = {}

    def evaluate(self, key: str, action: str, resource: str, context: tuple[ContextEntry, ...] = ()) -> Decision:
        engine = self.engine
        if engine.gathered(key):
            return engine.evaluate(key, action, resource, context)
        canonical = catalog.require_action(action)
        wanted = self._speaking_policies(canonical.lower())
        held = self.index.policies_of.get(key, frozenset()) & wanted
        decision = engine.evaluate(key, canonical, resource, context, policies=self.index.policy_set(key, held))
        # The identity layer stands for the principal's whole set, as the engine would count it.
        count = self.index.attachment_count[key]
        verdicts = tuple(LayerVerdict(v.layer, v.decision, count) if v.layer is Layer.IDENTITY else v for v in decision.layer_verdicts)
        return replace(decision, layer_verdicts=verdicts)

    def _speaking_policies(self, action_lower: str) -> frozenset[str]:
        """Identity policy nodes holding any statement (Allow or Deny) whose Action names the action."""
        found = self._speaking.get(action_lower)
        if found is None:
            keys = {key for key, doc in self.index.documents.items() if any(_names(st, action_lower) for st in doc.statements)}
            found = self._speaking[action_lower] = frozenset(keys)
        return found


def _names(st: Statement, action_lower: str) -> bool:
    return st.matches_action(action_lower)
