"""The web page in a real browser: Playwright drives Debian's chromium (no browser download)
against a real `graphsim serve`. Every view is exercised, the console must stay free of errors,
and screenshots are written under the test's tmp path."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"
# The walkthrough's first draft of newbie's policy: it forgot s3:ListAllMyBuckets.
DRAFT = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ListReports", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::final-friday-reports"},
    {"Sid": "DownloadReports", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-reports/*"},
]}


def launch(playwright: Any) -> Browser:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`graphsim serve` on a free loopback port, on a throw-away store."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphsim.cli", "serve", "--db", ":memory:", "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("graphsim serve did not start")
    yield url
    proc.terminate()
    proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == [], f"the console had errors: {errors}"


def gql(server: str, query: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(f"{server}/graphql", json={"query": query, "variables": variables}, timeout=30).json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def open_home(page: Page) -> None:
    page.goto("/")
    expect(page.locator("#bottom-line")).to_be_visible(timeout=20_000)


def test_priya_sees_the_deny_and_the_role_route_drawn(page: Page, tmp_path: Path) -> None:
    open_home(page)  # the page opens on priya and the classified bucket
    expect(page.locator("#decision")).to_have_text("EXPLICIT_DENY")
    expect(page.locator("#route-decision")).to_have_text("ALLOWED")
    expect(page.locator("#bottom-line")).to_contain_text("may not s3:GetObject directly (EXPLICIT_DENY), but may by assuming role ClassifiedReader")
    expect(page.locator("#verdict-direct")).to_contain_text("group/DevOps -> policy/DevOpsDeploy -> Statement[1] (Sid NeverClassified)")
    expect(page.locator("#verdict-route")).to_contain_text("inline-policy/ClassifiedReader/ReadClassified -> Statement[1] (Sid ReadClassified)")
    drawn = page.evaluate("""() => ({
        deny: graphsim.cy.nodes('[effect = "DENY"][?deciding]').map(n => n.data('label')),
        allow: graphsim.cy.nodes('[effect = "ALLOW"][?deciding]').map(n => n.data('label')),
        hop: graphsim.cy.edges('[kind = "can-assume"]').map(e => [e.source().data('label'), e.target().data('label')]),
    })""")
    assert drawn["deny"] == ["Statement[1] (Sid NeverClassified)"]
    assert "Statement[1] (Sid ReadClassified)" in drawn["allow"]
    assert drawn["hop"] == [["user/priya", "role/ClassifiedReader"]]
    # The deciding Deny opens first, its policy's JSON with the statement marked.
    expect(page.locator("#detail pre .stmt.marked")).to_contain_text('"Sid": "NeverClassified"')
    # A click on a node of the drawing opens that node's policy.
    page.evaluate("() => { graphsim.cy.nodes('[label = \"Statement[1] (Sid ReadClassified)\"]').emit('tap'); }")
    expect(page.locator("#detail pre .stmt.marked")).to_contain_text('"Sid": "ReadClassified"')
    expect(page.locator("#detail h3")).to_have_text("Statement[1] (Sid ReadClassified)")
    page.screenshot(path=str(tmp_path / "priya.png"), full_page=True)


@pytest.mark.parametrize("example, expected", [
    ("newbie lists buckets", "ALLOWED"),
    ("newbie lists reports", "ALLOWED"),
    ("newbie downloads", "ALLOWED"),
    ("newbie reads classified", "IMPLICIT_DENY"),
    ("steve reads classified", "ALLOWED"),
])
def test_the_walkthrough_questions(page: Page, example: str, expected: str) -> None:
    # The demo world's policy is the walkthrough's finished one (v2, with SeeAllBuckets); steve
    # is an administrator; nothing allows newbie the classified bucket (implicit deny).
    open_home(page)
    page.get_by_role("button", name=example).click()
    principal = example.split()[0]
    expect(page.locator("#explanation")).to_contain_text(f"{expected}: user/{principal} ", timeout=10_000)
    expect(page.locator("#decision")).to_have_text(expected)
    assert page.evaluate("() => graphsim.cy.nodes('[?focus]').length") == 2  # the principal and the resource


def test_who_can_on_the_classified_bucket(page: Page, tmp_path: Path) -> None:
    open_home(page)
    page.get_by_role("tab", name="Who can").click()
    assert page.locator("#view-who input[name=principal]").count() == 0  # who-can needs no principal
    page.locator("#who-form").get_by_role("button", name="Who can?").click()
    expect(page.locator("#who-question")).to_have_text(f"Who can s3:GetObject on {CLASSIFIED}?")
    items = page.locator("#who-list li")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_have_text("user/steve may s3:GetObject directly")
    expect(items.nth(1)).to_have_text("role/ClassifiedReader may s3:GetObject directly")
    expect(items.nth(2)).to_have_text("user/priya may s3:GetObject by assuming ClassifiedReader")
    hops = page.evaluate("() => graphsim.cy.edges('[kind = \"can-assume\"]').map(e => e.source().data('label') + ' -> ' + e.target().data('label'))")
    assert hops == ["user/priya -> role/ClassifiedReader"]
    page.screenshot(path=str(tmp_path / "who-can.png"), full_page=True)


def test_explorer_expands_a_neighbourhood(page: Page) -> None:
    open_home(page)
    page.get_by_role("tab", name="Explore").click()
    page.locator("#explore-form input[name=node]").fill("priya")
    page.locator("#explore-form input[name=node]").press("Enter")  # keyboard: Enter submits
    expect(page.locator("#explore-count")).to_have_text("4 nodes, 3 edges")
    page.locator("#explore-answer").get_by_role("button", name="group/DevOps").click()
    page.get_by_role("button", name="Expand").click()
    expect(page.locator("#explore-count")).to_have_text("7 nodes, 6 edges")  # DevOpsDeploy, omar and kai join
    labels = page.evaluate("() => graphsim.cy.nodes().map(n => n.data('label')).sort()")
    assert labels == sorted(["user/priya", "group/Administrators", "group/DevOps", "role/ClassifiedReader", "policy/DevOpsDeploy", "user/omar", "user/kai"])


def test_findings_and_escalation_paths_open_their_graph(page: Page) -> None:
    open_home(page)
    page.get_by_role("tab", name="Findings").click()
    page.get_by_role("button", name="Load findings").click()
    first = page.locator("#findings-list li").filter(has_text="admin-equivalent user/priya")
    expect(first).to_have_count(1)
    first.get_by_role("button", name="Open graph").click()
    expect(page.locator("#graph-title")).to_have_text("user/priya within 1 hop")
    page.get_by_role("tab", name="Findings").click()
    page.locator("#escalation-form input[name=principal]").fill("steve")
    page.locator("#escalation-form").get_by_role("button", name="Find paths").click()
    expect(page.locator("#escalation-list li")).to_contain_text("steve is already admin-equivalent")
    page.locator("#escalation-list").get_by_role("button", name="Open graph").click()
    expect(page.locator("#graph-title")).to_have_text("how user/steve can become admin-equivalent")


def test_diff_of_two_worlds(page: Page, server: str) -> None:
    # A fork where dana has left HR: she loses the reports the HR group's policy gave her.
    gql(server, 'mutation { forkWorld(source: "final-friday", name: "dana-left") { __typename } }')
    gql(server, 'mutation { removeUserFromGroup(user: "dana", group: "HR", world: "dana-left") { __typename } }')
    open_home(page)
    page.get_by_role("tab", name="Diff").click()
    page.locator("#diff-form select[name=a]").select_option("final-friday")
    page.locator("#diff-form select[name=b]").select_option("dana-left")
    page.get_by_role("button", name="Compare worlds").click()
    rows = page.locator("#diff-table tr").filter(has_text="dana")
    expect(rows.filter(has_text="arn:aws:s3:::final-friday-reports/q4.pdf").filter(has_text="s3:GetObject")).to_contain_text("lost")
    expect(page.locator("#diff-table")).not_to_contain_text("gained")


def test_what_if_edit_fixes_list_all_my_buckets(page: Page, server: str, tmp_path: Path) -> None:
    # A fork holding the first draft, which forgot s3:ListAllMyBuckets (the S3 console lists
    # buckets with it before anything else).
    gql(server, 'mutation { forkWorld(source: "final-friday", name: "first-draft") { __typename } }')
    gql(server, 'mutation($d: String!) { updatePolicy(policy: "FinalFridayReportsReadOnly", document: $d, world: "first-draft") { __typename } }', d=json.dumps(DRAFT))
    open_home(page)
    page.locator("#world").select_option("first-draft")
    page.get_by_role("tab", name="What if").click()
    page.locator("#whatif-policy").select_option("FinalFridayReportsReadOnly")
    editor = page.locator("#whatif-document")
    expect(editor).to_have_value(json.dumps(DRAFT, indent=2))
    # A mistake first: the validation message names its JSON path.
    broken = {**DRAFT, "Statement": [*DRAFT["Statement"], {"Sid": "SeeAllBuckets", "Effect": "Allwo", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
    editor.fill(json.dumps(broken, indent=2))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#whatif-problem-list")).to_contain_text('Statement[2].Effect: must be "Allow" or "Deny", got "Allwo"')
    fixed = {**DRAFT, "Statement": [*DRAFT["Statement"], {"Sid": "SeeAllBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
    editor.fill(json.dumps(fixed, indent=2))
    page.get_by_role("button", name="Compare before and after").click()
    expect(page.locator("#whatif-valid")).to_have_text("The document is valid.")
    row = page.locator("#whatif-table tr.changed")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("newbie")
    expect(row).to_contain_text("s3:ListAllMyBuckets")
    expect(row.locator(".badge").nth(0)).to_have_text("IMPLICIT_DENY")
    expect(row.locator(".badge").nth(1)).to_have_text("ALLOWED")
    expect(page.locator("#whatif-summary")).to_contain_text("nothing was saved")
    # Nothing was saved: the fork still has the draft.
    still = gql(server, '{ can(principal: "newbie", action: "s3:ListAllMyBuckets", resource: "*", world: "first-draft") { decision } }')
    assert still["can"]["decision"] == "IMPLICIT_DENY"
    page.screenshot(path=str(tmp_path / "what-if.png"), full_page=True)


def test_fork_button_and_keyboard_tabs(page: Page) -> None:
    open_home(page)
    page.locator("#tab-ask").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-who")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tab-who")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-whatif")).to_have_attribute("aria-selected", "true")
    page.locator("#fork-form input[name=name]").fill("scratch")
    page.locator("#fork-form").get_by_role("button", name="Fork").click()
    expect(page.locator("#world")).to_have_value("scratch")


def test_readable_on_a_phone(browser: Browser, server: str, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_home(page)
    # Nothing runs off the side of the screen, and the drawing sits below the verdict.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    verdict = page.locator("#verdict").bounding_box()
    drawing = page.locator("#graph").bounding_box()
    assert verdict is not None and drawing is not None and drawing["y"] > verdict["y"]
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    context.close()
    assert errors == []


def test_graphiql_says_graphsim_and_the_examples_are_one_click_away(page: Page) -> None:
    page.goto("/graphql")
    expect(page).to_have_title("graphsim · GraphiQL")
    tab = page.locator(".graphiql-tab").filter(has_text="ClassifiedDecisionGraph")
    expect(tab).to_have_count(1, timeout=20_000)  # every example operation is a tab
    tab.click()
    expect(page.locator(".graphiql-query-editor")).to_contain_text("decisionGraph(")
    page.goto("/operations")
    link = page.get_by_role("link", name="classified-via-roles")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_title("graphsim · GraphiQL")
    expect(page.locator(".graphiql-query-editor")).to_contain_text("ClassifiedViaRoles", timeout=20_000)


def test_graphiql_runs_the_world_changed_subscription(page: Page, server: str) -> None:
    # Its own fork, so the change does not touch the other tests' world.
    gql(server, 'mutation { forkWorld(source: "final-friday", name: "live-graphiql") { __typename } }')
    from urllib.parse import quote

    page.goto("/graphql?q=" + quote('subscription { worldChanged(world: "live-graphiql") { version mutation summary } }'))
    expect(page.locator(".graphiql-query-editor")).to_contain_text("worldChanged", timeout=20_000)
    page.locator(".graphiql-execute-button").click()
    page.wait_for_timeout(1500)  # the subscription starts listening over graphql-transport-ws
    gql(server, 'mutation { createUser(name: "watched", world: "live-graphiql") { __typename } }')
    response = page.locator(".graphiql-response")
    expect(response).to_contain_text('"mutation": "createUser"', timeout=20_000)
    expect(response).to_contain_text('"version": 2')
