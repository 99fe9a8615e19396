"""graphsim.world.listing: the sorted name index follows the world's changes."""

from __future__ import annotations

from graphsim.world import NodeKind
from graphsim.world.io import load_demo_world
from graphsim.world.listing import Filter, SortField, listing


def _names(world, keys):  # type: ignore[no-untyped-def]
    return [world.name_of(k) for k in keys]


def test_the_index_is_rebuilt_after_a_change() -> None:
    world = load_demo_world()
    assert _names(world, listing(world, [NodeKind.USER]))[:2] == ["dana", "harriet"]
    world.add_user("Aaron")
    world.remove_entity(NodeKind.USER, "dana")
    assert _names(world, listing(world, [NodeKind.USER]))[:2] == ["Aaron", "harriet"]  # case-insensitive order
    world.tag_principal(NodeKind.USER, "Aaron", {"team": "platform"})
    assert _names(world, listing(world, [NodeKind.USER], Filter(tag_key="team", tag_value="platform"))) == ["Aaron", "priya", "steve"]


def test_several_kinds_sort_together_and_by_arn() -> None:
    world = load_demo_world()
    both = _names(world, listing(world, [NodeKind.GROUP, NodeKind.ROLE]))
    assert both == ["Administrators", "ClassifiedReader", "DevOps", "HR"]
    by_arn = _names(world, listing(world, [NodeKind.GROUP, NodeKind.ROLE], sort=SortField.ARN, descending=True))
    assert by_arn == ["ClassifiedReader", "HR", "DevOps", "Administrators"]  # role/ > group/, then by name
