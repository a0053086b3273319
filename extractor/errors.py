"""Named errors. Each names the file (and line or page where known) and what was wrong.

The CLI turns any ``PolicyKBError`` into a one-line message without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class PolicyKBError(Exception):
    """Base class of every error policy-kb reports to a user."""

    code = "E000"

    def __init__(self, message: str, *, path: str | Path | None = None, where: str | None = None):
        self.path = str(path) if path is not None else None
        self.where = where
        self.reason = message
        prefix = ""
        if self.path:
            prefix = self.path + (f" ({where})" if where else "") + ": "
        super().__init__(f"[{self.code}] {prefix}{message}")


class DataFileError(PolicyKBError):
    """A lexicon file in extractor/data/ is malformed (duplicate key, unknown reference...)."""

    code = "E001"


class CatalogError(PolicyKBError):
    """corpus/catalog.yml is malformed: missing file, duplicate id, unknown field, missing value."""

    code = "E010"


class SourceError(PolicyKBError):
    """A source document cannot be read."""

    code = "E020"


class DecodeError(SourceError):
    """A text file is in no encoding we accept (UTF-8, UTF-8 with BOM, GB18030/GBK)."""

    code = "E021"


class EmptyDocumentError(SourceError):
    """A file holds no text at all."""

    code = "E022"


class UnsupportedFormatError(SourceError):
    """A file extension policy-kb cannot read."""

    code = "E023"


class PdfError(SourceError):
    """A PDF is encrypted, truncated, corrupt, or has no text layer (a scan)."""

    code = "E024"


class DocxError(SourceError):
    """A Word file is corrupt or not a .docx."""

    code = "E025"


class DocumentTimeoutError(SourceError):
    """A document took longer than the build's per-document budget (``build --doc-timeout``)."""

    code = "E028"


class WorkerDiedError(SourceError):
    """The worker process extracting a document died (a crash, the OOM killer) while on it."""

    code = "E029"


class GoldError(PolicyKBError):
    """A gold annotation file is malformed or its quote is not in the document."""

    code = "E030"


class ServeError(PolicyKBError):
    """``policykb serve`` has no knowledge base to serve (no kb.db and no corpus to build it from)."""

    code = "E040"
