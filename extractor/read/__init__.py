"""Stage 1, reading: a source file (.txt, .pdf, .docx) -> ``SourceText`` (decoded text and pages).

Entry function: :func:`read_source`. Also here: the catalog (``catalog.py``) and the metadata of
files outside it, guessed from their text (``metadata.py``).
"""

from extractor.read.text import SUPPORTED_SUFFIXES, read_source

__all__ = ["SUPPORTED_SUFFIXES", "read_source"]
