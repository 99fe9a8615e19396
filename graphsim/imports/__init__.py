"""Data in: real AWS exports and native world files, read and merged into one world.

Pure conversion: no SQL, HTTP or GraphQL (the store keeps what this builds). ``sources`` is the
one reader of files; ``import_sources`` detects each source's format, converts it with the
importer for that format (one module each: ``auth_details``, ``bucket_policy``,
``organizations``, ``native``) and merges them all (``merge``) into one native world dict, so
several ``get-account-authorization-details`` files (one per account) build one multi-account
world. ``ImportResult.to_world`` builds the ``World`` from it without parsing any document a
second time. Bad input raises ``ImportFileError`` naming the file and the JSON path of every
problem (``auth.json: UserDetailList[3].AttachedManagedPolicies[0].PolicyArn: ...``).

Documents are never altered. Each is parsed the way the world will parse it: parser warnings
(an action the AWS catalog does not know, ...) become findings, and a document AWS accepted but
graphsim's parser rejects becomes a finding of severity ``"error"``: it stays in the world
dict, and the world will not load until it is fixed (``ImportResult.errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bulk import bulk
from ..errors import Problem
from ..limits import check_deadline
from ..world import World
from ..world.io import world_from_dict
from .auth_details import convert_auth_details, is_auth_details
from .bucket_policy import convert_bucket_policy, is_bucket_policy
from .merge import BUILTIN_AWS_MANAGED, Finding, Merge, ParsedDocuments
from .native import convert_native, is_native
from .organizations import ORG_FOLDER_MARKERS, convert_org_folder, is_org_folder
from .sources import ImportFileError, SourceLimitError, decode_document, load_source_file, parse_text

__all__ = [
    "BUILTIN_AWS_MANAGED",
    "IMPORTERS",
    "Finding",
    "ImportFileError",
    "ImportResult",
    "Importer",
    "SourceLimitError",
    "decode_document",
    "detect_format",
    "import_files",
    "import_sources",
    "load_source_file",
    "parse_text",
    "source_paths",
]


@dataclass(slots=True)
class ImportResult:
    """The merged world as a native world dict, the findings, and the names of the sources."""

    world: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    _parsed: ParsedDocuments = field(default_factory=ParsedDocuments, repr=False)

    @property
    def errors(self) -> list[Finding]:
        """Findings that keep the world from loading."""
        return [f for f in self.findings if f.severity == "error"]

    def to_world(self, name: str | None = None) -> World:
        """The ``World``, built from ``world`` with the documents the import already parsed;
        raises ``WorldFileError`` (naming the sources) when it does not load (``errors``)."""
        try:
            return world_from_dict(self.world, source=", ".join(self.sources) or "import", name=name, parse=self._parsed)
        finally:
            self._parsed.clear()  # the world keeps the parser; from now on it parses afresh


@dataclass(frozen=True, slots=True)
class Importer:
    """One export format: ``detect`` looks at (source name, parsed data); ``convert`` adds it to
    the world being built. Importers run by ``phase``, then in the order of the sources: IAM
    exports and native worlds first (the first account named is the world's default), then the
    organization, then bucket policies (which need to know the world's accounts)."""

    name: str
    description: str
    detect: Callable[[str, Any], bool]
    convert: Callable[[str, Any, Merge], None]
    phase: int = 0


IMPORTERS: tuple[Importer, ...] = (
    Importer("graphsim-world", "a native world file (JSON or YAML)", is_native, convert_native),
    Importer("iam-authorization-details", "aws iam get-account-authorization-details", is_auth_details, convert_auth_details),
    Importer("organizations", "a folder of aws organizations describe-*/list-* outputs", is_org_folder, convert_org_folder, phase=1),
    Importer("s3-bucket-policy", "aws s3api get-bucket-policy", is_bucket_policy, convert_bucket_policy, phase=2),
)


def detect_format(source: str, data: object) -> Importer | None:
    """The importer for a parsed source, or None when no importer recognises it."""
    return next((imp for imp in IMPORTERS if imp.detect(source, data)), None)


def import_files(paths: Iterable[str | Path], *, name: str | None = None, description: str | None = None) -> ImportResult:
    """Read each file or folder with the one reader and import them together (folders of
    folders opened as ``source_paths`` says)."""
    return import_sources([load_source_file(p) for p in source_paths(paths)], name=name, description=description)


_SOURCE_SUFFIXES = (".json", ".yaml", ".yml")


def source_paths(paths: Iterable[str | Path]) -> list[str]:
    """The sources ``paths`` name: a file is one source, and so is an organizations export
    folder (it holds ``describe-organization.json`` or ``list-roots.json``); any other folder
    stands for its JSON and YAML files and its sub-folders, in name order, opened the same way:
    the layout of a company's exports, an account folder per account (``123456789012/`` with its
    ``authorization-details.json`` and ``BUCKET.bucket-policy.json`` files, whose folder names
    their owner), an organizations folder and native world files beside them. Hidden entries
    and other files (a README) are passed over; a folder with no source at all is an error."""
    found: list[str] = []
    for path in paths:
        p = Path(path)
        if not p.is_dir() or any((p / marker).is_file() for marker in ORG_FOLDER_MARKERS):
            found.append(str(path))
            continue
        inside = [child for child in sorted(p.iterdir()) if not child.name.startswith(".") and (child.is_dir() or child.suffix.lower() in _SOURCE_SUFFIXES)]
        if not inside:
            raise ImportFileError(str(path), [Problem("", "the folder holds no exports (.json or .yaml files, or folders of them: an account folder per account, an organizations folder)")])
        found.extend(source_paths(inside))
    return found


def import_sources(sources: list[tuple[str, object]], *, name: str | None = None, description: str | None = None) -> ImportResult:
    """Convert and merge (source name, parsed JSON) pairs into one native world dict.

    A source given as text (a ``str``) is parsed first, as ``parse_text`` reads it. Raises
    ``ImportFileError`` (naming the first bad file, ``others`` the rest) for anything that
    cannot be imported: an unrecognised or malformed document, a reference to a policy or group
    no source provides, a duplicate name. Returns the world and the findings."""
    with bulk():
        return _import_sources(sources, name=name, description=description)


def _import_sources(sources: list[tuple[str, object]], *, name: str | None, description: str | None) -> ImportResult:
    m = Merge()
    order = [source for source, _ in sources]
    if not sources:
        raise ImportFileError("(no sources)", [Problem("", "nothing to import: give at least one file")])
    plan: list[tuple[Importer, str, object]] = []
    for source, data in sources:
        check_deadline()
        if isinstance(data, str):
            try:
                data = parse_text(source, data)
            except ImportFileError as exc:
                m.problems.setdefault(source, []).extend(exc.problems)
                continue
        importer = detect_format(source, data)
        if importer is None:
            what = type(data).__name__ if not isinstance(data, Mapping) else "an object with keys " + ", ".join(list(map(str, data))[:6])
            m.problem(source, "", f"not a recognised export (got {what}); expected one of: " + "; ".join(i.description for i in IMPORTERS))
            continue
        plan.append((importer, source, data))
    for importer, source, data in sorted(plan, key=lambda p: p[0].phase):
        check_deadline()
        try:
            importer.convert(source, data, m)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a shape no check foresaw
            m.problem(source, "", f"malformed {importer.name} export ({type(exc).__name__}: {exc})")
    m.resolve()
    m.raise_problems(order)
    return ImportResult(m.world(name, description, order), m.findings, order, m.parsed)
