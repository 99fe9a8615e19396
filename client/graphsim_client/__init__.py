"""A small client for a graphsim server, for access-review scripts.

    from graphsim_client import GraphsimClient
    with GraphsimClient("http://127.0.0.1:8000") as gs:
        decision = gs.can("newbie", "s3:GetObject", "arn:aws:s3:::final-friday-reports/q4.pdf")
        assert decision.allowed, decision.explanation

``simulate_principal_policy`` and ``simulate_custom_policy`` take boto3's keyword arguments and
return boto3's response shape, so a script written for ``boto3.client("iam")`` runs offline.
Errors come back as ``GraphsimError`` with the server's message, code and field.

Lists that grow with the world are iterators that fetch page after page as they are consumed
(``for user in gs.users(filter={"namePrefix": "a"}): ...``); a world that changes while one is
being walked raises ``GraphsimError`` with code ``STALE_CURSOR`` (start the walk again).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["Decision", "GraphsimClient", "GraphsimError", "MatchedStatement"]


class GraphsimError(Exception):
    """The server refused a request: ``message`` says why, ``code`` and ``field`` say where."""

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.details = details


@dataclass(frozen=True)
class MatchedStatement:
    policy: str
    sid: str | None
    effect: str
    layer: str
    path: str


@dataclass(frozen=True)
class Decision:
    principal: str
    action: str
    resource: str
    decision: str
    allowed: bool
    explanation: str
    blocked_by: str | None
    missing_context_values: list[str]
    warnings: list[str]
    matched_statements: list[MatchedStatement] = field(default_factory=list)
    via_roles: list[str] = field(default_factory=list)

    @classmethod
    def from_graphql(cls, data: dict[str, Any]) -> Decision:
        return cls(
            principal=data["principal"],
            action=data["action"],
            resource=data["resource"],
            decision=data["decision"],
            allowed=data["allowed"],
            explanation=data["explanation"],
            blocked_by=data["blockedBy"],
            missing_context_values=list(data["missingContextValues"]),
            warnings=list(data["warnings"]),
            matched_statements=[MatchedStatement(**m) for m in data["matchedStatements"]],
            via_roles=list((data.get("viaRole") or {}).get("roles", [])),
        )


# The browse connections of ``world { ... }`` and the filter input each takes.
_LISTS = {
    "users": ("usersConnection", "UserFilter"),
    "groups": ("groupsConnection", "GroupFilter"),
    "roles": ("rolesConnection", "RoleFilter"),
    "policies": ("policiesConnection", "PolicyFilter"),
    "resources": ("resourcesConnection", "ResourceFilter"),
}
DEFAULT_PAGE_SIZE = 100


DECISION_FIELDS = """
  principal action resource decision allowed explanation blockedBy missingContextValues warnings
  matchedStatements { policy sid effect layer path }
  viaRole { roles }
"""


def context_entries(context: dict[str, Any] | None) -> list[dict[str, Any]]:
    """``{"aws:SourceIp": "10.0.0.1", "aws:TagKeys": ["a", "b"]}`` as typed context entries."""
    entries = []
    for key, value in (context or {}).items():
        if isinstance(value, (list, tuple)):
            entries.append({"contextKeyName": key, "contextKeyValues": [str(v) for v in value], "contextKeyType": "stringList"})
        elif isinstance(value, bool):
            entries.append({"contextKeyName": key, "contextKeyValues": ["true" if value else "false"], "contextKeyType": "boolean"})
        else:
            entries.append({"contextKeyName": key, "contextKeyValues": [str(value)], "contextKeyType": "string"})
    return entries


class GraphsimClient:
    def __init__(self, url: str = "http://127.0.0.1:8000", *, world: str | None = None, timeout: float = 60.0, http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.world = world
        self._http = http or httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphsimClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- transport ----------------------------------------------------------------------------

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """Run one GraphQL operation; raises GraphsimError for errors and for union error results."""
        try:
            response = self._http.post("/graphql", json={"query": query, "variables": variables})
        except httpx.HTTPError as exc:
            raise GraphsimError(f"cannot reach graphsim at {self.url}: {exc}", code="UNREACHABLE") from None
        if response.status_code != 200:
            raise GraphsimError(f"graphsim answered HTTP {response.status_code}: {response.text[:300]}", code=f"HTTP_{response.status_code}")
        body = response.json()
        if body.get("errors"):
            first = body["errors"][0]
            ext = first.get("extensions") or {}
            raise GraphsimError(first["message"], code=ext.get("code"), field=ext.get("field"), details=body["errors"])
        data: dict[str, Any] = body["data"]
        for value in data.values():
            if isinstance(value, dict) and "message" in value and "code" in value:  # a mutation's UserError
                raise GraphsimError(value["message"], code=value["code"], field=value.get("field"), details=value)
        return data

    def paginate(self, query: str, path: Sequence[str], *, page_size: int = DEFAULT_PAGE_SIZE, **variables: Any) -> Iterator[dict[str, Any]]:
        """Every node of a connection, fetched a page at a time as the iterator is consumed.
        ``query`` takes ``$first: Int`` and ``$after: String``; ``path`` leads from ``data`` to the
        connection, which must select ``nodes`` and ``pageInfo { hasNextPage endCursor }``."""
        after = None
        while True:
            connection: Any = self.graphql(query, first=page_size, after=after, **variables)
            for key in path:
                connection = connection[key]
            yield from connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                return
            after = connection["pageInfo"]["endCursor"]

    def _world_list(self, kind: str, fields: str, filter: dict[str, Any] | None, order_by: dict[str, Any] | None, page_size: int) -> Iterator[dict[str, Any]]:
        connection, filter_type = _LISTS[kind]
        query = f"""query($first: Int, $after: String, $w: String, $f: {filter_type}, $o: Order) {{
          world(name: $w) {{ {connection}(first: $first, after: $after, filter: $f, orderBy: $o) {{
            pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }} }}"""
        return self.paginate(query, ("world", connection), page_size=page_size, w=self.world, f=filter, o=order_by)

    def users(self, *, filter: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None, fields: str = "id name arn path", page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """The world's users, by name (``order_by={"field": "ARN", "direction": "DESC"}`` for
        another order); ``filter`` takes UserFilter's keys (namePrefix, nameContains, pathPrefix,
        account, tag {key value}, attachedPolicy, group)."""
        return self._world_list("users", fields, filter, order_by, page_size)

    def groups(self, *, filter: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None, fields: str = "id name arn path", page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        return self._world_list("groups", fields, filter, order_by, page_size)

    def roles(self, *, filter: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None, fields: str = "id name arn path", page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        return self._world_list("roles", fields, filter, order_by, page_size)

    def policies(self, *, filter: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None, fields: str = "id name arn", page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Managed policies; ``filter={"awsManaged": False}`` for the account's own."""
        return self._world_list("policies", fields, filter, order_by, page_size)

    def resources(self, *, filter: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None, fields: str = "id name arn type", page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        return self._world_list("resources", fields, filter, order_by, page_size)

    def node(self, id: str, fields: str = "__typename id ... on User { name arn } ... on Group { name arn } ... on Role { name arn } ... on Policy { name policyArn: arn } ... on Resource { name arn } ... on Account { accountId arn } ... on Statement { label } ... on OrgUnit { name key } ... on OrgPolicy { name }") -> dict[str, Any] | None:
        """The entity with this global id (an ``id`` from any listing), or None when it no longer exists."""
        data = self.graphql(f"query($id: ID!) {{ node(id: $id) {{ {fields} }} }}", id=id)
        return data["node"]  # type: ignore[no-any-return]

    def history(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """The world's committed changes, newest first: version, at, mutation, summary, arguments."""
        query = """query($first: Int, $after: String, $w: String) { world(name: $w) { historyConnection(first: $first, after: $after) {
          pageInfo { hasNextPage endCursor } nodes { version at mutation summary arguments } } } }"""
        return self.paginate(query, ("world", "historyConnection"), page_size=page_size, w=self.world)

    def _aws(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        params = {"world": self.world} if self.world else None
        response = self._http.post(f"/aws/{operation}", json=kwargs, params=params)
        body = response.json()
        if response.status_code != 200:
            error = body.get("Error", {})
            raise GraphsimError(error.get("Message", response.text), code=error.get("Code"), field=error.get("Field"), details=body)
        return dict(body)

    # ---- questions ----------------------------------------------------------------------------

    def can(self, principal: str, action: str, resource: str, *, context: dict[str, Any] | None = None, via_roles: bool = False) -> Decision:
        query = f"""query($p: String!, $a: String!, $r: String!, $c: [ContextEntryInput!], $w: String, $v: Boolean!) {{
          can(principal: $p, action: $a, resource: $r, context: $c, world: $w, viaRoles: $v) {{ {DECISION_FIELDS} }} }}"""
        data = self.graphql(query, p=principal, a=action, r=resource, c=context_entries(context), w=self.world, v=via_roles)
        return Decision.from_graphql(data["can"])

    def who_can(self, actions: str | list[str], resource: str, *, context: dict[str, Any] | None = None, page_size: int = DEFAULT_PAGE_SIZE) -> list[dict[str, Any]]:
        """Every principal allowed the action(s) on the resource: label, access (direct,
        via-roles, resource-policy), viaRoles, paths, decision (fetched page by page)."""
        query = """query($a: [String!]!, $r: String!, $c: [ContextEntryInput!], $w: String, $first: Int, $after: String) {
          whoCanConnection(actions: $a, resource: $r, context: $c, world: $w, first: $first, after: $after) { pageInfo { hasNextPage endCursor }
            nodes { principal label kind action resource access viaRoles paths conditional missingContext decision { decision } } } }"""
        actions = [actions] if isinstance(actions, str) else actions
        return list(self.paginate(query, ("whoCanConnection",), page_size=page_size, a=actions, r=resource, c=context_entries(context), w=self.world))

    def what_can(self, principal: str, *, service: str | None = None, resource_prefix: str | None = None) -> dict[str, Any]:
        """Effective permissions: ``grants`` by resource pattern and one consolidated ``policy``."""
        query = """query($p: String!, $s: String, $r: String, $w: String) {
          whatCan(principal: $p, service: $s, resourcePrefix: $r, world: $w) {
            principal grants { resource actions conditionalActions sources } policy notes } }"""
        return dict(self.graphql(query, p=principal, s=service, r=resource_prefix, w=self.world)["whatCan"])

    def matrix(self, actions: list[str], resources: list[str], principals: list[str] | None = None, *, csv: bool = False) -> Any:
        """The access matrix; ``csv=True`` downloads it as CSV text (for large matrices)."""
        if csv:
            params: dict[str, Any] = {"actions": ",".join(actions), "resources": ",".join(resources)}
            if principals:
                params["principals"] = ",".join(principals)
            if self.world:
                params["world"] = self.world
            response = self._http.get("/export/matrix.csv", params=params)
            if response.status_code != 200:
                body = response.json()
                raise GraphsimError(body.get("error", response.text), code=body.get("code"), field=body.get("field"))
            return response.text
        query = """query($a: [String!]!, $r: [String!]!, $p: [String!], $w: String) {
          accessMatrix(actions: $a, resources: $r, principals: $p, world: $w) {
            principals actions resources counts principalGroups evaluations cells { principal action resource decision } } }"""
        return dict(self.graphql(query, a=actions, r=resources, p=principals, w=self.world)["accessMatrix"])

    def what_if(self, changes: list[dict[str, Any]], questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``changes``: [{"mutation": "attachGroupPolicy", "arguments": {...}}]; ``questions``:
        [{"principal", "action", "resource", "context"?}]. Nothing is committed."""
        query = """query($c: [ChangeInput!]!, $q: [QuestionInput!]!, $w: String) {
          whatIf(changes: $c, questions: $q, world: $w) {
            principal action resource changed before { decision } after { decision matchedStatements { path } } } }"""
        qs = [{**{k: v for k, v in q.items() if k != "context"}, "context": context_entries(q.get("context"))} for q in questions]
        return list(self.graphql(query, c=changes, q=qs, w=self.world)["whatIf"])

    def findings(self, rules: list[str] | None = None, *, page_size: int = DEFAULT_PAGE_SIZE) -> list[dict[str, Any]]:
        """Least-privilege findings (fetched page by page)."""
        query = """query($r: [String!], $w: String, $first: Int, $after: String) { findingsConnection(rules: $r, world: $w, first: $first, after: $after) {
          pageInfo { hasNextPage endCursor } nodes { rule severity why policy statement path principal } } }"""
        return list(self.paginate(query, ("findingsConnection",), page_size=page_size, r=rules, w=self.world))

    def escalation_paths(self, principal: str) -> list[dict[str, Any]]:
        query = """query($p: String!, $w: String) { escalationPaths(principal: $p, world: $w) {
          principal target alreadyAdmin steps { technique source target actions resources explanation } } }"""
        return list(self.graphql(query, p=principal, w=self.world)["escalationPaths"])

    def denial_fix(self, principal: str, action: str, resource: str) -> dict[str, Any]:
        query = """query($p: String!, $a: String!, $r: String!, $w: String) {
          denialFix(principal: $p, action: $a, resource: $r, world: $w) { decision blockedBy statement where deniedBy summary } }"""
        return dict(self.graphql(query, p=principal, a=action, r=resource, w=self.world)["denialFix"])

    def simulate_principal_policy(self, **kwargs: Any) -> dict[str, Any]:
        """boto3's ``iam.simulate_principal_policy(PolicySourceArn=..., ActionNames=[...], ...)``."""
        return self._aws("simulate-principal-policy", kwargs)

    def simulate_custom_policy(self, **kwargs: Any) -> dict[str, Any]:
        """boto3's ``iam.simulate_custom_policy(PolicyInputList=[...], ActionNames=[...], ...)``."""
        return self._aws("simulate-custom-policy", kwargs)
