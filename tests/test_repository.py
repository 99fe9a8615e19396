"""The repository stands on its own: nothing shipped points outside it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["README.md", "graphsim", "client", "schema", "bench", "Makefile", "pyproject.toml"]


def _texts() -> list[tuple[Path, str]]:
    found = []
    for entry in SHIPPED:
        path = ROOT / entry
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".html", ".js", ".graphql", ".toml", ".yaml", ".json", ""}]
        for f in files:
            if "static" in f.parts or "vendor" in f.parts:
                continue  # third-party assets, vendored as released
            try:
                found.append((f, f.read_text(encoding="utf-8")))
            except UnicodeDecodeError:
                continue
    return found


def test_nothing_shipped_points_outside_the_repository() -> None:
    offenders = [str(f.relative_to(ROOT)) for f, text in _texts() if "../shared" in text]
    assert offenders == []
