"""GraphQL documents sent again are parsed and validated once (issue 11 target 3), and a document
that fails validation fails every time."""

from __future__ import annotations

from graphsim.api import caching
from graphsim.api.limits import parse_cached
from graphsim.limits import Limits
from tests.conftest import GraphQLClient

CAN = 'query($p: String!, $r: String!) { can(principal: $p, action: "s3:GetObject", resource: $r) { decision } }'
REPORTS, CLASSIFIED = "arn:aws:s3:::final-friday-reports/a.csv", "arn:aws:s3:::final-friday-classified/a.csv"


def test_a_repeated_document_is_parsed_and_validated_once(gql: GraphQLClient) -> None:
    gql.data(CAN, p="newbie", r=REPORTS)  # parsed and validated (or found from an earlier test)
    parsed, validated = parse_cached.cache_info(), dict(caching.stats)
    answers = [gql.data(CAN, p=p, r=r)["can"]["decision"] for p, r in (("newbie", REPORTS), ("newbie", CLASSIFIED), ("priya", CLASSIFIED))]
    assert answers == ["ALLOWED", "IMPLICIT_DENY", "EXPLICIT_DENY"]  # each with its own variables (the demo world's story)
    after = parse_cached.cache_info()
    # Found each time (by the look before execution in security.py, and by the schema), parsed never.
    assert after.misses - parsed.misses == 0 and after.hits - parsed.hits >= 3
    assert (caching.stats["hits"] - validated["hits"], caching.stats["misses"] - validated["misses"]) == (3, 0)


def test_a_document_that_fails_validation_fails_every_time(gql: GraphQLClient) -> None:
    depth = Limits().query_depth
    deep = "{ world { " + "users { groups { " * depth + "name" + " } }" * depth + " } }"
    unknown = "{ can(principal: \"newbie\", action: \"s3:GetObject\", resource: \"*\") { verdict } }"
    for _ in range(2):
        error = gql(deep)["errors"][0]
        assert error["extensions"]["code"] == "LIMIT_EXCEEDED" and error["extensions"]["limit"] == "query_depth"
        assert "Cannot query field 'verdict'" in gql(unknown)["errors"][0]["message"]


def test_the_same_document_under_other_limits_is_validated_afresh() -> None:
    from graphsim import limits as L
    from graphsim.api.schema import schema
    from graphsim.workspace import Workspace

    ws = Workspace.with_world()
    query = "{ world { users { name } } }"  # three levels deep
    assert schema.execute_sync(query, context_value={"workspace": ws}).errors is None
    with L.using(Limits(query_depth=2)):
        errors = schema.execute_sync(query, context_value={"workspace": ws}).errors
    assert errors is not None and errors[0].extensions["limit"] == "query_depth"
    assert schema.execute_sync(query, context_value={"workspace": ws}).errors is None
