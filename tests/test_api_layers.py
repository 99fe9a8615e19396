"""Every policy layer through the GraphQL API, on the demo world and changes made to it.

D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import json

from graphsim.engine import Engine
from graphsim.world import NodeKind
from graphsim.world.io import load_demo_world, world_from_dict, world_to_dict
from tests.conftest import GraphQLClient

ROLE = "arn:aws:iam::111122223333:role/ClassifiedReader"
CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"
REPORT = "arn:aws:s3:::final-friday-reports/q4.pdf"
CAN = """
query($p: String!, $a: String!, $r: String!, $via: Boolean! = false, $session: String) {
  can(principal: $p, action: $a, resource: $r, viaRoles: $via, sessionPolicy: $session) {
    decision blockedBy allowedByOrganizations allowedByPermissionsBoundary explanation
    matchedStatements { sid layer path }
    layerVerdicts { layer decision }
    viaRole { roles steps { source role decision { matchedStatements { layer path } } } decision { decision matchedStatements { path } } }
  }
}
"""


def doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def can(gql: GraphQLClient, p: str, a: str, r: str, **extra: object) -> dict:
    return gql.data(CAN, p=p, a=a, r=r, **extra)["can"]


def change(gql: GraphQLClient, mutation: str, **variables: object) -> None:
    (result,) = gql.data(mutation, **variables).values()
    assert result["__typename"].endswith("Payload"), result


def test_trust_policy_naming_the_account_needs_an_identity_allow(gql: GraphQLClient) -> None:
    # A trust policy that names the account delegates to IAM: the caller's identity policy must
    # allow sts:AssumeRole too. D: .../reference_policies_evaluation-logic_policy-eval-basics.html
    admin = can(gql, "steve", "sts:AssumeRole", ROLE)
    assert admin["decision"] == "ALLOWED"
    assert [m["path"] for m in admin["matchedStatements"]] == [
        "user/steve -> group/Administrators -> policy/AdministratorAccess -> Statement[0]",
        "role/ClassifiedReader -> trust-policy/ClassifiedReader -> Statement[0] (Sid TrustTheAccount)",
    ]
    newbie = can(gql, "newbie", "sts:AssumeRole", ROLE)
    assert newbie["decision"] == "IMPLICIT_DENY" and newbie["blockedBy"] == "IDENTITY"
    assert {v["layer"]: v["decision"] for v in newbie["layerVerdicts"]} == {"RESOURCE": "ALLOWED", "IDENTITY": "IMPLICIT_DENY"}


def test_an_identity_allow_alone_never_assumes_a_role(gql: GraphQLClient) -> None:
    change(gql, 'mutation($d: String!) { updateAssumeRolePolicy(role: "ClassifiedReader", document: $d) { __typename } }',
           d=doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/dana"}, "Action": "sts:AssumeRole"}))
    steve = can(gql, "steve", "sts:AssumeRole", ROLE)
    assert steve["decision"] == "IMPLICIT_DENY" and steve["blockedBy"] == "RESOURCE"
    # Named by ARN in the same account, dana needs no identity policy for it.
    assert can(gql, "dana", "sts:AssumeRole", ROLE)["decision"] == "ALLOWED"


def test_via_roles_shows_the_route_an_administrator_takes(gql: GraphQLClient) -> None:
    priya = can(gql, "priya", "s3:GetObject", CLASSIFIED, via=True)
    assert priya["decision"] == "EXPLICIT_DENY"  # the DevOps Deny, directly
    route = priya["viaRole"]
    assert route["roles"] == [ROLE]
    assert route["decision"]["decision"] == "ALLOWED"
    assert route["decision"]["matchedStatements"] == [{"path": "role/ClassifiedReader -> inline-policy/ClassifiedReader/ReadClassified -> Statement[1] (Sid ReadClassified)"}]
    assert [m["layer"] for m in route["steps"][0]["decision"]["matchedStatements"]] == ["IDENTITY", "RESOURCE"]
    assert "But through role ClassifiedReader, it is allowed" in priya["explanation"]
    # newbie cannot assume any role, so there is no route.
    newbie = can(gql, "newbie", "s3:GetObject", CLASSIFIED, via=True)
    assert newbie["decision"] == "IMPLICIT_DENY" and newbie["viaRole"] is None


def test_assumable_roles_are_the_can_assume_edges(gql: GraphQLClient) -> None:
    query = 'query($p: String!) { assumableRoles(principal: $p) { principal role decision { decision } } }'
    assert gql.data(query, p="priya")["assumableRoles"] == [
        {"principal": "arn:aws:iam::111122223333:user/priya", "role": ROLE, "decision": {"decision": "ALLOWED"}}
    ]
    assert gql.data(query, p="newbie")["assumableRoles"] == []
    edges = gql.data("{ canAssumeEdges { principal role } }")["canAssumeEdges"]
    assert [(e["principal"].rsplit("/", 1)[1], e["role"].rsplit("/", 1)[1]) for e in edges] == [("priya", "ClassifiedReader"), ("steve", "ClassifiedReader")]


def test_a_session_arn_is_a_principal_and_session_policies_cap_it(gql: GraphQLClient) -> None:
    session = "arn:aws:sts::111122223333:assumed-role/ClassifiedReader/audit"
    assert can(gql, session, "s3:GetObject", CLASSIFIED)["decision"] == "ALLOWED"
    capped = can(gql, session, "s3:GetObject", CLASSIFIED, session=doc({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}))
    assert capped["decision"] == "IMPLICIT_DENY" and capped["blockedBy"] == "SESSION"


def test_a_permissions_boundary_caps_identity_grants(gql: GraphQLClient) -> None:
    change(gql, 'mutation($d: String!) { createPolicy(name: "ListOnly", document: $d) { __typename } }',
           d=doc({"Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListAllMyBuckets"], "Resource": "*"}))
    change(gql, 'mutation { putUserPermissionsBoundary(user: "newbie", policy: "ListOnly") { __typename } }')
    got = can(gql, "newbie", "s3:GetObject", REPORT)
    assert got["decision"] == "IMPLICIT_DENY" and got["blockedBy"] == "BOUNDARY"
    assert got["allowedByPermissionsBoundary"] is False
    detail = gql.data('{ can(principal: "newbie", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf") { permissionsBoundaryDecisionDetail { allowedByPermissionsBoundary } organizationsDecisionDetail { allowedByOrganizations } } }')
    assert detail["can"] == {"permissionsBoundaryDecisionDetail": {"allowedByPermissionsBoundary": False}, "organizationsDecisionDetail": None}
    listed = can(gql, "newbie", "s3:ListBucket", "arn:aws:s3:::final-friday-reports")
    assert listed["decision"] == "ALLOWED" and listed["allowedByPermissionsBoundary"] is True
    assert [m["layer"] for m in listed["matchedStatements"]] == ["IDENTITY", "BOUNDARY"]
    assert gql.data('{ world { user(name: "newbie") { permissionsBoundary { name } } } }')["world"]["user"]["permissionsBoundary"] == {"name": "ListOnly"}


def test_a_bucket_policy_grants_a_user_in_the_same_account(gql: GraphQLClient) -> None:
    # Same account: an Allow in the resource policy alone is enough (reference_policies_evaluation-logic_policy-eval-basics.html).
    policy = doc({"Sid": "NewbieReadsQ4", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/newbie"},
                  "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-classified/q4.pdf"})
    change(gql, 'mutation($d: String!) { putResourcePolicy(arn: "arn:aws:s3:::final-friday-classified", document: $d) { __typename } }', d=policy)
    got = can(gql, "newbie", "s3:GetObject", CLASSIFIED)
    assert got["decision"] == "ALLOWED"
    assert got["matchedStatements"] == [{"sid": "NewbieReadsQ4", "layer": "RESOURCE",
                                         "path": "resource/final-friday-classified/q4.pdf -> resource/final-friday-classified -> resource-policy/final-friday-classified -> Statement[0] (Sid NewbieReadsQ4)"}]
    assert can(gql, "newbie", "s3:GetObject", "arn:aws:s3:::final-friday-classified/salaries.xlsx")["decision"] == "IMPLICIT_DENY"


def test_cross_account_needs_both_sides(gql: GraphQLClient) -> None:
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
    change(gql, 'mutation { createAccount(id: "444455556666", alias: "partner") { __typename } }')
    change(gql, 'mutation { createUser(name: "auditor", account: "444455556666") { __typename } }')
    change(gql, 'mutation($d: String!) { putUserPolicy(user: "auditor", policyName: "ReadReports", document: $d) { __typename } }',
           d=doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-reports/*"}))
    alone = can(gql, "auditor", "s3:GetObject", REPORT)
    assert alone["decision"] == "IMPLICIT_DENY" and alone["blockedBy"] == "RESOURCE"
    change(gql, 'mutation($d: String!) { putResourcePolicy(arn: "arn:aws:s3:::final-friday-reports", document: $d) { __typename } }',
           d=doc({"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-reports/*"}))
    assert can(gql, "auditor", "s3:GetObject", REPORT)["decision"] == "ALLOWED"
    # The account's grant delegates to its IAM: without the identity policy, no access.
    change(gql, 'mutation { deleteUserPolicy(user: "auditor", policyName: "ReadReports") { __typename } }')
    assert can(gql, "auditor", "s3:GetObject", REPORT)["blockedBy"] == "IDENTITY"


def _organization(gql: GraphQLClient, account_scp: str) -> None:
    full = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    for mutation, variables in [
        ('mutation { createAccount(id: "999988887777", alias: "management") { __typename } }', {}),
        ('mutation { createOrganization(managementAccount: "999988887777", rootId: "r-ff01") { __typename } }', {}),
        ('mutation { createOrganizationalUnit(name: "Workloads", parent: "r-ff01") { __typename } }', {}),
        ('mutation { moveAccount(account: "111122223333", parent: "Workloads") { __typename } }', {}),
        ('mutation($d: String!) { createOrgPolicy(name: "FullAWSAccess", type: "scp", document: $d) { __typename } }', {"d": full}),
        ('mutation($d: String!) { createOrgPolicy(name: "AccountGuard", type: "scp", document: $d) { __typename } }', {"d": account_scp}),
        ('mutation { attachOrgPolicy(policy: "FullAWSAccess", target: "r-ff01") { __typename } }', {}),
        ('mutation { attachOrgPolicy(policy: "FullAWSAccess", target: "Workloads") { __typename } }', {}),
        ('mutation { attachOrgPolicy(policy: "AccountGuard", target: "111122223333") { __typename } }', {}),
    ]:
        change(gql, mutation, **variables)


def test_an_scp_deny_binds_even_administrators(gql: GraphQLClient) -> None:
    # D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
    _organization(gql, doc({"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "NoNewUsers", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}))
    denied = can(gql, "steve", "iam:CreateUser", "*")
    assert denied["decision"] == "EXPLICIT_DENY" and denied["blockedBy"] == "SCP"
    assert denied["allowedByOrganizations"] is False
    assert denied["matchedStatements"] == [{"sid": "NoNewUsers", "layer": "SCP", "path": "account/111122223333 -> scp/AccountGuard -> Statement[1] (Sid NoNewUsers)"}]
    assert can(gql, "steve", "s3:ListAllMyBuckets", "*")["allowedByOrganizations"] is True


def test_every_scp_level_must_allow(gql: GraphQLClient) -> None:
    _organization(gql, doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    blocked = can(gql, "steve", "iam:CreateUser", "*")
    assert blocked["decision"] == "IMPLICIT_DENY" and blocked["blockedBy"] == "SCP"
    assert can(gql, "steve", "s3:GetObject", CLASSIFIED)["decision"] == "ALLOWED"


def test_simulate_custom_policy_takes_every_input(gql: GraphQLClient) -> None:
    query = """query($in: SimulateCustomPolicyInput!) { simulateCustomPolicy(input: $in) {
        evalActionName evalDecision blockedBy
        permissionsBoundaryDecisionDetail { allowedByPermissionsBoundary }
        organizationsDecisionDetail { allowedByOrganizations } } }"""
    full = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    deny_delete = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"})
    results = gql.data(query, **{"in": {
        "policyInputList": [doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})],
        "permissionsBoundaryPolicyInputList": [doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": "*"})],
        "actionNames": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        "resourceArns": ["arn:aws:s3:::reports/q4.pdf"],
        "callerArn": "arn:aws:sts::111122223333:assumed-role/Analyst/alice",
        "resourceOwner": "111122223333",
        "resourcePolicy": doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Analyst"}, "Action": "s3:GetObject", "Resource": "*"}),
        "serviceControlPolicyInputList": [[full], [full]],
        "resourceControlPolicyInputList": [[deny_delete]],
        "sessionPolicy": doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    }})["simulateCustomPolicy"]
    got = {r["evalActionName"]: (r["evalDecision"], r["blockedBy"]) for r in results}
    assert got == {"s3:GetObject": ("ALLOWED", None), "s3:PutObject": ("IMPLICIT_DENY", "BOUNDARY"), "s3:DeleteObject": ("EXPLICIT_DENY", "RCP")}
    assert results[1]["permissionsBoundaryDecisionDetail"] == {"allowedByPermissionsBoundary": False}
    assert results[2]["organizationsDecisionDetail"] == {"allowedByOrganizations": False}


def test_layers_round_trip_through_the_world_file() -> None:
    world = load_demo_world()
    world.add_account("999988887777")
    world.create_organization("999988887777", root_id="r-ff01")
    world.add_ou("Workloads", "r-ff01")
    world.place_account("111122223333", "Workloads")
    world.add_org_policy("FullAWSAccess", "scp", doc({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    world.add_org_policy("NoBuckets", "rcp", doc({"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"}))
    for target in ("r-ff01", "Workloads", "111122223333"):
        world.attach_org_policy("FullAWSAccess", target)
    world.attach_org_policy("NoBuckets", "Workloads")
    world.add_managed_policy("ListOnly", doc({"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}))
    world.set_boundary(NodeKind.USER, "dana", "ListOnly")
    world.put_resource_policy("arn:aws:s3:::final-friday-classified", doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/newbie"}, "Action": "s3:GetObject", "Resource": "*"}))
    again = world_from_dict(json.loads(json.dumps(world_to_dict(world))))
    questions = [
        (p, a, r)
        for p in ("newbie", "dana", "steve", "priya", "arn:aws:sts::111122223333:assumed-role/ClassifiedReader/x")
        for a, r in (("s3:GetObject", CLASSIFIED), ("s3:GetObject", REPORT), ("s3:DeleteBucket", "arn:aws:s3:::final-friday-reports"), ("sts:AssumeRole", ROLE), ("s3:ListBucket", "arn:aws:s3:::final-friday-reports"))
    ]
    a, b = Engine(world), Engine(again)
    first = [(d.decision, d.blocked_by, [m.path_text for m in d.matched_statements]) for d in (a.can(*q) for q in questions)]
    second = [(d.decision, d.blocked_by, [m.path_text for m in d.matched_statements]) for d in (b.can(*q) for q in questions)]
    assert first == second
    assert ("EXPLICIT_DENY" in {str(d[0].value) for d in first}) and any(d[1] is not None and d[1].value == "boundary" for d in first)


def test_can_assume_edges_form_a_graph_with_provenance() -> None:
    graph = Engine(load_demo_world()).assume_graph()
    assert sorted((u.rsplit("/", 1)[1], v.rsplit("/", 1)[1], k) for u, v, k in graph.edges(keys=True)) == [
        ("priya", "ClassifiedReader", "can-assume"), ("steve", "ClassifiedReader", "can-assume")]
    edge = graph.edges["arn:aws:iam::111122223333:user/steve", ROLE, "can-assume"]
    assert edge["trust"] == ["role/ClassifiedReader -> trust-policy/ClassifiedReader -> Statement[0] (Sid TrustTheAccount)"]
    assert edge["identity"] == ["user/steve -> group/Administrators -> policy/AdministratorAccess -> Statement[0]"]
