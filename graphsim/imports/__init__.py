"""Data in: reading world and export files (``sources``), and turning AWS exports into worlds."""

from __future__ import annotations

from .sources import ImportFileError, SourceLimitError, decode_document, load_source_file, parse_text

__all__ = ["ImportFileError", "SourceLimitError", "decode_document", "load_source_file", "parse_text"]
