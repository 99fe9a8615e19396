"""The named worlds a process serves, each with its engine. The API and CLI share this."""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import Engine
from .errors import NotFoundError
from .world import World
from .world.io import DEMO_WORLD, load_demo_world

DEFAULT = "default"


@dataclass
class Workspace:
    worlds: dict[str, World] = field(default_factory=dict)
    engines: dict[str, Engine] = field(default_factory=dict)
    default: str = DEMO_WORLD

    @classmethod
    def with_world(cls, world: World | None = None) -> Workspace:
        """A workspace holding ``world``, or the built-in demo world, as the default."""
        ws = cls()
        ws.add(world or load_demo_world(), make_default=True)
        return ws

    def add(self, world: World, *, make_default: bool = False) -> None:
        self.worlds[world.name] = world
        self.engines[world.name] = Engine(world)
        if make_default or len(self.worlds) == 1:
            self.default = world.name

    def _name(self, name: str | None) -> str:
        if name is None or name == DEFAULT:
            return self.default
        if name not in self.worlds:
            raise NotFoundError("world", name, field="world", hint=f"known worlds: {', '.join(sorted(self.worlds))}")
        return name

    def world(self, name: str | None = None) -> World:
        return self.worlds[self._name(name)]

    def engine(self, name: str | None = None) -> Engine:
        return self.engines[self._name(name)]
