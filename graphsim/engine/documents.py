"""Policy documents given as input rather than found in the graph (simulate requests' documents,
session policies, extra identity policies and boundaries of simulatePrincipalPolicy): parsed
once per distinct text, with problems named by the input field, and turned into policy sets
whose paths name the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import PolicyValidationError, Problem
from ..policy import PolicyDocument, PolicyKind
from ..policy.cache import DOCUMENT_WEIGHT, DOCUMENTS
from ..world import NodeKind, PathStep, PolicyAttachment, PolicyType
from ..world.graph import parse_with_catalog
from .decision import Layer
from .policyset import PolicySet


def document_attachments(documents: Sequence[PolicyDocument], label: str, ptype: PolicyType) -> list[PolicyAttachment]:
    out = []
    for i, doc in enumerate(documents, start=1):
        name = f"{label}.{i}"
        out.append(PolicyAttachment(name, name, None, ptype, doc, (PathStep(name, NodeKind.POLICY, f"policy/{name}"),)))
    return out


def _parse_cached(text: str, kind: PolicyKind) -> PolicyDocument:
    # Batches of simulations repeat the same documents: parse_with_catalog keeps each parsed
    # document by its text, in a cache bounded by bytes (world.graph.DOCUMENTS).
    return parse_with_catalog(text, kind=kind)


def parse_document(document: str | Mapping[str, object], kind: PolicyKind, field: str) -> PolicyDocument:
    """Parse one input document; problems carry ``field`` as their path prefix."""
    try:
        if isinstance(document, str):
            return _parse_cached(document, kind)
        return parse_with_catalog(document, kind=kind)
    except PolicyValidationError as exc:
        raise PolicyValidationError([Problem(f"{field}.{p.path}".rstrip("."), p.rule) for p in exc.problems], field=field) from None


def input_policy_set(documents: Sequence[str | Mapping[str, object]], kind: PolicyKind, field: str, label: str, ptype: PolicyType, layer: Layer) -> PolicySet:
    """A policy set built from input documents; sets of JSON texts are built once and reused,
    since batches of simulations repeat the same documents."""
    if all(isinstance(d, str) for d in documents):
        return _input_set_cached(tuple(documents), kind, field, label, ptype, layer)  # type: ignore[arg-type]
    docs = [parse_document(d, kind, _input_field(field, i)) for i, d in enumerate(documents)]
    return PolicySet(document_attachments(docs, label, ptype), layer)


def _input_field(field: str, index: int) -> str:
    # List inputs name the document by index (policyInputList[0]); single ones by name alone.
    return f"{field}[{index}]" if field.endswith("List") else field


def _input_set_cached(texts: tuple[str, ...], kind: PolicyKind, field: str, label: str, ptype: PolicyType, layer: Layer) -> PolicySet:
    def build() -> PolicySet:
        docs = [parse_document(d, kind, _input_field(field, i)) for i, d in enumerate(texts)]
        return PolicySet(document_attachments(docs, label, ptype), layer)

    # The documents themselves are held by _parse_cached; a set adds its index (a third of that).
    return DOCUMENTS.get(("set", texts, kind, field, label, ptype, layer), sum(map(len, texts)) * DOCUMENT_WEIGHT // 3, build)



def session_policy_set(document: str | Mapping[str, object], label: str) -> PolicySet:
    doc = parse_document(document, PolicyKind.SESSION, "sessionPolicy")
    step = PathStep("SessionPolicy", NodeKind.POLICY, "session-policy")
    return PolicySet([PolicyAttachment("SessionPolicy", "SessionPolicy", None, PolicyType.SESSION, doc, (PathStep(label, NodeKind.ROLE, label), step))], Layer.SESSION)
