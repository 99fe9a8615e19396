"""Where a store lives, checked before anything is created there, and the store it names.

A store is an SQLite file (a path, ``sqlite:///PATH`` or ``:memory:``) or a PostgreSQL database
(``postgresql://user@host/db``, or ``postgres://``). Anything else given as ``--db`` or
``$GRAPHSIM_DB`` is refused with a message naming it: a folder, a file that is not an SQLite
database, a folder that does not exist (nothing is created on the way), or a URL of another kind.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidRequestError

if TYPE_CHECKING:
    from .base import Store

MEMORY = ":memory:"
_SQLITE_HEADER = b"SQLite format 3\x00"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SQLITE_URL = "sqlite:///"  # then the path, as SQLAlchemy writes it: sqlite:////abs/path, sqlite:///rel/path


def is_postgres(location: str | Path) -> bool:
    return str(location).lower().startswith(("postgres://", "postgresql://"))


def open_store(location: str | Path) -> Store:
    """The store at ``location``: PostgreSQL for a ``postgresql://`` URL, else an SQLite file."""
    if is_postgres(location):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            if "psycopg" not in str(exc):
                raise
            raise InvalidRequestError("a PostgreSQL store needs psycopg: pip install 'graphsim[postgres]'", field="db") from None
        return PostgresStore(str(location))
    from .sqlite import SqliteStore

    return SqliteStore(location)


def check_location(location: str | Path) -> str:
    """``location`` as a path SQLite may open, or an InvalidRequestError (field ``db``)."""
    text = str(location)
    if text.lower().startswith(_SQLITE_URL):
        text = text[len(_SQLITE_URL):]
    if text == MEMORY:
        return text
    if not text.strip():
        raise InvalidRequestError("the store location is empty", field="db")
    if _URL.match(text) or text.lower().startswith(("postgres:", "postgresql:")):
        scheme = text.split(":", 1)[0].lower()
        if scheme in ("postgres", "postgresql"):
            # Not echoed: without its // the text cannot be told apart from its password.
            raise InvalidRequestError(f"the store location starting {scheme}: is not a PostgreSQL URL: write postgresql://USER@HOST[:PORT]/DATABASE", field="db")
        if scheme != "file":
            raise InvalidRequestError(f"{redact(text)} is not a store location: give the path of an SQLite file (or :memory:), or a postgresql:// URL", field="db")
        raise InvalidRequestError(f"give the store as a plain path, not a file: URL ({text})", field="db")
    path = Path(text).expanduser()
    if path.is_dir():
        raise InvalidRequestError(f"{text} is a folder; give the path of the store's file inside it (e.g. {path / 'graphsim.db'})", field="db")
    if path.exists():
        if not path.is_file():
            raise InvalidRequestError(f"{text} is not a regular file", field="db")
        try:
            with path.open("rb") as f:
                header = f.read(len(_SQLITE_HEADER))
        except OSError as exc:
            raise InvalidRequestError(f"cannot read {text}: {exc.strerror}", field="db") from None
        if header and header != _SQLITE_HEADER:
            raise InvalidRequestError(f"{text} is not an SQLite database (graphsim keeps its store in one); nothing was changed", field="db")
        return str(path)
    parent = path.parent
    if not parent.is_dir():
        raise InvalidRequestError(f"the folder {parent} does not exist; create it first (graphsim does not create folders for --db)", field="db")
    return str(path)


def store_location(db: str | None) -> str:
    """The store a command uses: ``--db``, else ``$GRAPHSIM_DB``, else the documented default,
    whose folder (only that one) is made on first use."""
    from .sqlite import default_db_path

    if db is not None:
        return db
    if os.environ.get("GRAPHSIM_DB"):
        return os.environ["GRAPHSIM_DB"]
    path = default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def redact(url: str) -> str:
    """A URL without its password, for messages: the one before the host (``user:PASSWORD@``,
    up to the last ``@``, since a password may hold one) and ``password=`` in the query."""
    url = re.sub(r"(//[^:/@?#]*):[^/?#]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)
