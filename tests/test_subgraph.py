"""Subgraphs as data: the decision graph of a can, the who-can graph, a neighbourhood, escalation
paths; the same through GraphQL, the CLI (GraphML and JSON node-link) and GET /export/graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graphsim.analysis.subgraph import PathEffect, Subgraph, decision_graph, escalation_graph, neighbourhood, who_can_graph
from graphsim.cli import main
from graphsim.engine import Engine
from graphsim.errors import InvalidRequestError, NotFoundError
from graphsim.world.io import load_demo_world, world_to_dict
from tests.conftest import GraphQLClient
from tests.test_analysis import arn, review_world

ACCT = "111122223333"
CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"
PRIYA = f"arn:aws:iam::{ACCT}:user/priya"
READER = f"arn:aws:iam::{ACCT}:role/ClassifiedReader"
DEVOPS_DENY = f"arn:aws:iam::{ACCT}:policy/DevOpsDeploy#Statement[1]"
DEVOPS_BUILD = f"arn:aws:iam::{ACCT}:policy/DevOpsDeploy#Statement[0]"
ADMIN_ALL = "arn:aws:iam::aws:policy/AdministratorAccess#Statement[0]"
READ_CLASSIFIED = f"{READER}#inline/ReadClassified#Statement[1]"
LIST_CLASSIFIED = f"{READER}#inline/ReadClassified#Statement[0]"
TRUST = f"{READER}#trust-policy#Statement[0]"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(load_demo_world())


def effects(sg: Subgraph) -> dict[str, PathEffect | None]:
    return {n.id: n.effect for n in sg.nodes() if n.kind == "statement"}


def edge_set(sg: Subgraph) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.kind) for e in sg.edges()}


def test_priya_decision_graph_shows_the_deny_and_the_role_route(demo: Engine) -> None:
    # "If policies that apply to a request include an Allow statement and a Deny statement, the
    # Deny statement trumps the Allow statement."
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
    # The role's trust policy names the account, so priya also needs an identity Allow of
    # sts:AssumeRole (AdministratorAccess). D: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html
    sg = decision_graph(demo, "priya", "s3:GetObject", CLASSIFIED, via_roles=True)
    assert sg.graph.graph["decision"] == "EXPLICIT_DENY" and sg.graph.graph["route_decision"] == "ALLOWED"
    assert effects(sg) == {
        ADMIN_ALL: PathEffect.ALLOW,
        DEVOPS_BUILD: PathEffect.ALLOW,  # s3:* on *: matches, but the Deny wins
        DEVOPS_DENY: PathEffect.DENY,
        TRUST: PathEffect.ALLOW,
        LIST_CLASSIFIED: PathEffect.NOT_MATCHING,  # s3:ListBucket: another action
        READ_CLASSIFIED: PathEffect.ALLOW,
    }
    deciding = {n.id for n in sg.nodes() if n.deciding}
    # The Deny decides the direct request; the hop is decided by the admin Allow and the trust
    # statement, the role's request by ReadClassified. BuildAndDeploy decides nothing.
    assert deciding == {DEVOPS_DENY, ADMIN_ALL, TRUST, READ_CLASSIFIED}
    edges = edge_set(sg)
    assert (PRIYA, READER, "can-assume") in edges
    assert (DEVOPS_DENY, CLASSIFIED, "applies-to") in edges and (READ_CLASSIFIED, CLASSIFIED, "applies-to") in edges
    assert (LIST_CLASSIFIED, CLASSIFIED, "applies-to") not in edges
    assert (PRIYA, f"arn:aws:iam::{ACCT}:group/DevOps", "member-of") in edges
    by_edge = {(e.source, e.target, e.kind): e for e in sg.edges()}
    # A path edge takes the strongest effect of the statements beyond it.
    assert by_edge[(PRIYA, f"arn:aws:iam::{ACCT}:group/DevOps", "member-of")].effect is PathEffect.DENY
    assert by_edge[(PRIYA, f"arn:aws:iam::{ACCT}:group/Administrators", "member-of")].effect is PathEffect.ALLOW
    assert "TrustTheAccount" in (by_edge[(PRIYA, READER, "can-assume")].provenance or "")
    nodes = {n.id: n for n in sg.nodes()}
    assert nodes[DEVOPS_DENY].statement == {"Sid": "NeverClassified", "Effect": "Deny", "Action": "s3:*",
                                            "Resource": ["arn:aws:s3:::final-friday-classified", "arn:aws:s3:::final-friday-classified/*"]}
    assert nodes[DEVOPS_DENY].policy == f"arn:aws:iam::{ACCT}:policy/DevOpsDeploy" and nodes[DEVOPS_DENY].statement_index == 1
    assert nodes[f"arn:aws:iam::{ACCT}:policy/DevOpsDeploy"].document is not None
    assert nodes[PRIYA].focus and nodes[CLASSIFIED].focus and not nodes[READER].focus
    assert sg.summary[0].startswith("EXPLICIT_DENY: user/priya may not")
    assert any("through role ClassifiedReader, it is allowed" in line for line in sg.summary)


def test_without_via_roles_there_is_no_role_hop(demo: Engine) -> None:
    sg = decision_graph(demo, "priya", "s3:GetObject", CLASSIFIED)
    assert READER not in sg.graph and "route_decision" not in sg.graph.graph


def test_an_implicit_deny_marks_every_considered_statement_not_matching(demo: Engine) -> None:
    # "An implicit denial occurs when there is no applicable Deny statement but also no applicable
    # Allow statement." D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
    sg = decision_graph(demo, "newbie", "s3:GetObject", CLASSIFIED)
    policy = f"arn:aws:iam::{ACCT}:policy/FinalFridayReportsReadOnly"
    assert effects(sg) == {f"{policy}#Statement[{i}]": PathEffect.NOT_MATCHING for i in range(3)}
    assert not any(e.kind == "applies-to" for e in sg.edges())
    assert not any(n.deciding for n in sg.nodes())


def test_boundary_and_scp_paths_are_considered_too() -> None:
    # alice's inline S3All allows s3:*, but her boundary allows only reads of shared-data*: "An
    # entity's permissions boundary allows it to perform only the actions that are allowed by both
    # its identity-based policies and its permissions boundaries."
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    engine = Engine(review_world())
    sg = decision_graph(engine, "alice", "s3:PutObject", "arn:aws:s3:::shared-data/new.csv")
    assert sg.graph.graph["decision"] == "IMPLICIT_DENY"
    alice = arn("user", "alice")
    boundary = arn("policy", "S3ReadBoundary")
    found = effects(sg)
    assert found[f"{alice}#inline/S3All#Statement[0]"] is PathEffect.ALLOW
    assert found[f"{boundary}#Statement[0]"] is PathEffect.NOT_MATCHING
    assert (alice, boundary, "bounded-by") in edge_set(sg)
    # SCP levels: the account, its OU and the root each hold FullAWSAccess, which allows.
    # D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
    scps = [n for n in sg.nodes() if n.layer == "scp"]
    assert scps and all(n.effect is PathEffect.ALLOW for n in scps if "FullAWSAccess" in n.id)
    # The bucket policy is considered; none of its statements grants alice PutObject.
    assert all(n.effect is PathEffect.NOT_MATCHING for n in sg.nodes() if n.layer == "resource")


def test_who_can_graph_draws_the_role_hop(demo: Engine) -> None:
    sg = who_can_graph(demo, ["s3:GetObject"], CLASSIFIED)
    assert sg.graph.graph["actions"] == "s3:GetObject" and sg.graph.graph["resource"] == CLASSIFIED
    assert sg.summary == [
        "user/steve may s3:GetObject directly",
        "role/ClassifiedReader may s3:GetObject directly",
        "user/priya may s3:GetObject by assuming role/ClassifiedReader",
    ]
    edges = edge_set(sg)
    steve = f"arn:aws:iam::{ACCT}:user/steve"
    assert (steve, f"arn:aws:iam::{ACCT}:group/Administrators", "member-of") in edges
    assert (PRIYA, READER, "can-assume") in edges and (READ_CLASSIFIED, CLASSIFIED, "applies-to") in edges
    # priya's own DevOps path is no route: it is not drawn.
    assert DEVOPS_DENY not in sg.graph


def test_who_can_graph_names_outside_principals_of_a_bucket_policy() -> None:
    engine = Engine(review_world())
    sg = who_can_graph(engine, ["s3:GetObject"], "arn:aws:s3:::shared-data/public/a.txt")
    kinds = {n.id: n.kind for n in sg.nodes()}
    assert kinds["anyone:*"] == "anyone" and kinds["account:arn:aws:iam::444455556666:root"] == "account"
    policy = "arn:aws:s3:::shared-data#resource-policy"
    assert ("anyone:*", f"{policy}#Statement[3]", "granted-by") in edge_set(sg)
    assert (f"{policy}#Statement[3]", "arn:aws:s3:::shared-data/public/a.txt", "applies-to") in edge_set(sg)


def test_neighbourhood_grows_with_hops(demo: Engine) -> None:
    one = neighbourhood(demo, "priya", 1)
    assert {n.label for n in one.nodes()} == {"user/priya", "group/Administrators", "group/DevOps", "role/ClassifiedReader"}
    assert (PRIYA, READER, "can-assume") in edge_set(one)
    two = neighbourhood(demo, "priya", 2)
    labels = {n.label for n in two.nodes()}
    assert {"policy/AdministratorAccess", "policy/DevOpsDeploy", "user/steve", "user/omar", "user/kai", "trust-policy/ClassifiedReader"} <= labels
    assert "user/newbie" not in labels
    group = neighbourhood(demo, "DevOps", 1)
    assert {n.label for n in group.nodes()} == {"group/DevOps", "policy/DevOpsDeploy", "user/priya", "user/omar", "user/kai"}
    small = neighbourhood(demo, "priya", 2, max_nodes=3)
    assert small.truncated and small.graph.number_of_nodes() == 3
    with pytest.raises(InvalidRequestError) as bad:
        neighbourhood(demo, "priya", 0)
    assert bad.value.field == "hops"
    with pytest.raises(NotFoundError):
        neighbourhood(demo, "nobody")


def test_escalation_graph_draws_each_move() -> None:
    engine = Engine(review_world())
    sg = escalation_graph(engine, "pat")
    pat, deployer = arn("user", "pat"), arn("role", "Deployer")
    by_key = {(e.source, e.target, e.kind): e for e in sg.edges()}
    assert (pat, deployer, "escalates") in by_key and (deployer, deployer, "escalates") in by_key
    assert by_key[(deployer, deployer, "escalates")].provenance.startswith("[put-role-policy]")  # type: ignore[union-attr]
    # The statement that lets the role rewrite itself is drawn, and applies to the role.
    assert (f"{deployer}#inline/SelfEdit#Statement[0]", deployer, "applies-to") in by_key
    assert escalation_graph(engine, "bob").summary == ["user/bob has no path to admin-equivalent access"]
    with pytest.raises(InvalidRequestError):
        escalation_graph(engine, "pat", path=3)


def test_graphml_and_node_link_keep_every_node_and_edge(demo: Engine) -> None:
    sg = decision_graph(demo, "priya", "s3:GetObject", CLASSIFIED, via_roles=True)
    import io

    back = nx.read_graphml(io.StringIO(sg.to_graphml()), force_multigraph=True)
    assert set(back.nodes) == set(sg.graph.nodes)
    assert {(s, t, d["kind"]) for s, t, d in back.edges(data=True)} == edge_set(sg)
    assert json.loads(back.nodes[DEVOPS_DENY]["statement"])["Sid"] == "NeverClassified"
    assert back.nodes[DEVOPS_DENY]["effect"] == "deny"
    data = sg.to_node_link()
    assert {n["id"] for n in data["nodes"]} == set(sg.graph.nodes) and len(data["edges"]) == sg.graph.number_of_edges()
    assert data["graph"]["summary"] == sg.summary


# ---- GraphQL, CLI, HTTP ---------------------------------------------------------------------------

DECISION_GRAPH = """query($p: String!, $a: String!, $r: String!) {
  decisionGraph(principal: $p, action: $a, resource: $r, viaRoles: true) {
    kind title summary truncated
    nodes { id kind label arn effect deciding focus policy statementIndex statement document layer }
    edges { id source target kind provenance effect }
  }
}"""


def test_graphml_from_the_cli_has_the_nodes_and_edges_of_the_graphql_answer(gql: GraphQLClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = gql.data(DECISION_GRAPH, p="priya", a="s3:GetObject", r=CLASSIFIED)["decisionGraph"]
    assert answer["kind"] == "decision"
    out = tmp_path / "priya.graphml"
    assert main(["graph", "decision", "priya", "s3:GetObject", CLASSIFIED, "--via-roles", "--format", "graphml", "--output", str(out)]) == 0
    back = nx.read_graphml(out, force_multigraph=True)
    assert set(back.nodes) == {n["id"] for n in answer["nodes"]}
    assert sorted((s, t, d["kind"]) for s, t, d in back.edges(data=True)) == sorted((e["source"], e["target"], e["kind"]) for e in answer["edges"])
    by_id = {n["id"]: n for n in answer["nodes"]}
    assert by_id[DEVOPS_DENY]["effect"] == "DENY" and by_id[DEVOPS_DENY]["deciding"] is True
    assert by_id[LIST_CLASSIFIED]["effect"] == "NOT_MATCHING"
    assert {back.nodes[n]["label"] for n in back.nodes} == {n["label"] for n in answer["nodes"]}
    # JSON node-link to stdout: the same graph.
    capsys.readouterr()
    assert main(["graph", "decision", "priya", "s3:GetObject", CLASSIFIED, "--via-roles", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {n["id"] for n in data["nodes"]} == set(by_id)
    assert len(data["edges"]) == len(answer["edges"])


def test_cli_graph_kinds_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "who-can", CLASSIFIED, "s3:GetObject", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["graph"]["resource"] == CLASSIFIED and (PRIYA, READER) in {(e["source"], e["target"]) for e in data["edges"]}
    assert main(["graph", "neighbourhood", "priya", "--hops", "2"]) == 0
    assert len(json.loads(capsys.readouterr().out)["nodes"]) == 11
    world = tmp_path / "review.json"
    world.write_text(json.dumps(world_to_dict(review_world())), encoding="utf-8")
    assert main(["graph", "escalation", "mallory", "--world", str(world), "--format", "graphml", "--output", str(tmp_path / "m.graphml")]) == 0
    back = nx.read_graphml(tmp_path / "m.graphml", force_multigraph=True)
    assert (arn("user", "mallory"), arn("user", "mallory")) in {(s, t) for s, t, d in back.edges(data=True) if d["kind"] == "escalates"}
    capsys.readouterr()
    assert main(["graph", "neighbourhood", "nobody"]) == 2
    assert "no user, role, group or policy named 'nobody'" in capsys.readouterr().err
    assert main(["graph", "neighbourhood", "priya", "--hops", "9"]) == 2
    assert main(["graph", "decision", "priya", "s3:NoSuchThing", CLASSIFIED]) == 2


def test_graph_download_over_http(gql: GraphQLClient) -> None:
    http = gql.http
    params: dict[str, Any] = {"principal": "priya", "action": "s3:GetObject", "resource": CLASSIFIED, "viaRoles": "true"}
    graphml = http.get("/export/graph/decision.graphml", params=params)
    assert graphml.status_code == 200 and graphml.headers["content-type"].startswith("application/graphml+xml")
    import io

    back = nx.read_graphml(io.StringIO(graphml.text), force_multigraph=True)
    assert READER in back and DEVOPS_DENY in back
    node_link = http.get("/export/graph/who-can.json", params={"actions": "s3:GetObject", "resource": CLASSIFIED}).json()
    assert {n["id"] for n in node_link["nodes"]} >= {PRIYA, READER, CLASSIFIED}
    assert http.get("/export/graph/neighbourhood.json", params={"node": "DevOps"}).json()["graph"]["centre"] == f"arn:aws:iam::{ACCT}:group/DevOps"
    bad = http.get("/export/graph/decision.svg", params=params)
    assert bad.status_code == 400 and bad.json()["field"] == "format"
    assert http.get("/export/graph/sideways.json").json()["field"] == "kind"
    missing = http.get("/export/graph/decision.json", params={"principal": "priya"})
    assert missing.status_code == 400 and missing.json()["field"] == "action"
    assert http.get("/export/graph/neighbourhood.json", params={"node": "nobody"}).status_code == 404
    assert http.get("/export/graph/neighbourhood.json", params={"node": "priya", "hops": "x"}).json()["field"] == "hops"


def test_graphql_errors_are_typed(gql: GraphQLClient) -> None:
    body = gql('{ neighbourhood(node: "priya", hops: 7) { title } }')
    assert body["errors"][0]["extensions"]["field"] == "hops"
    body = gql('{ escalationGraph(principal: "nobody") { title } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_explanation_lines_are_the_explanation_line_by_line(gql: GraphQLClient) -> None:
    data = gql.data('{ can(principal: "priya", action: "s3:GetObject", resource: "final-friday-classified/q4.pdf", viaRoles: true) { explanation explanationLines } }')
    lines = data["can"]["explanationLines"]
    assert lines == data["can"]["explanation"].split("\n") and len(lines) > 5
    assert "\n" not in "".join(lines)
