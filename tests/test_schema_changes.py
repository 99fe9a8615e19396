"""No silent breaks: the exported schema keeps every field, argument and type clients were
written against, unless schema/CHANGELOG.md records the break."""

from __future__ import annotations

import subprocess
from pathlib import Path

from graphsim.api.compat import coordinate, recorded_coordinates, unrecorded_breaks
from graphsim.api.schema import schema

ROOT = Path(__file__).resolve().parent.parent
SDL = ROOT / "schema" / "schema.graphql"
CHANGELOG = ROOT / "schema" / "CHANGELOG.md"


def _branch_point_sdl() -> str | None:
    # The schema where this branch left main; None outside a git checkout.
    try:
        base = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return subprocess.run(["git", "show", f"{base}:schema/schema.graphql"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def test_no_unrecorded_breaking_change() -> None:
    exported = schema.as_str() + "\n"
    changelog = CHANGELOG.read_text(encoding="utf-8")
    baselines = {"schema/schema.graphql": SDL.read_text(encoding="utf-8")}
    branch_point = _branch_point_sdl()
    if branch_point is not None:
        baselines["the branch point with main"] = branch_point
    for label, old in baselines.items():
        breaks = unrecorded_breaks(old, exported, changelog)
        assert not breaks, f"breaking change against {label}, not recorded in schema/CHANGELOG.md: " + "; ".join(map(str, breaks))


def _in_user(sdl: str, old: str, new: str) -> str:
    """SDL with the first ``old`` inside ``type User`` replaced by ``new``."""
    head, sep, body = sdl.partition("type User implements Node {\n")
    assert sep, "type User not found in the SDL"
    return head + sep + body.replace(old, new, 1)


def test_a_renamed_field_fails_with_its_name() -> None:
    old = SDL.read_text(encoding="utf-8")
    renamed = _in_user(old, "  name: String!\n", "  userName: String!\n")
    assert renamed != old
    breaks = unrecorded_breaks(old, renamed, CHANGELOG.read_text(encoding="utf-8"))
    assert [(b.coordinate, b.kind) for b in breaks] == [("User.name", "FIELD_REMOVED")]
    assert "User.name" in str(breaks[0])


def test_a_recorded_break_passes_and_only_that_one() -> None:
    old = SDL.read_text(encoding="utf-8")
    changed = _in_user(old, "  name: String!\n", "")
    changed = changed.replace("world(name: String = null)", "world", 1)
    assert sorted(b.coordinate for b in unrecorded_breaks(old, changed, "")) == ["Query.world(name:)", "User.name"]
    recorded = "## Unreleased\n- breaking: `User.name` -- users are named by arn now\n"
    assert [b.coordinate for b in unrecorded_breaks(old, changed, recorded)] == ["Query.world(name:)"]


def test_additions_are_not_breaking() -> None:
    old = SDL.read_text(encoding="utf-8")
    added = _in_user(old, "  arn: String!\n", "  arn: String!\n  nickname: String\n")
    assert unrecorded_breaks(old, added, "") == []


def test_coordinates() -> None:
    assert coordinate("Enum value Effect.ALLOW was removed.") == "Effect.ALLOW"
    assert coordinate("Argument Query.can(principal:) has changed type from String! to ID!.") == "Query.can(principal:)"
    assert coordinate("Tag was removed.") == "Tag"
    assert coordinate("Directive @skip was removed.") == "@skip"
    assert recorded_coordinates("- breaking: `User.id` -- x\n- something else `A.b`\n  - BREAKING: `Query.world(name:)`") == {"User.id", "Query.world(name:)"}
