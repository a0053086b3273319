"""Stage 6, the knowledge base: processed documents -> ``kb.db`` (schema, store, FTS, citations).

Entry function: :func:`build_db`.
"""

from extractor.kb.store import build_db

__all__ = ["build_db"]
