"""Analysis spans -> source spans: every record of the structure points into the source text."""

from __future__ import annotations

from dataclasses import dataclass

from extractor.normalize import Normalized


@dataclass(frozen=True)
class Spans:
    """The analysis text of a document, its source text, and the map between them."""

    source: str
    norm: Normalized

    @property
    def text(self) -> str:
        """The analysis text."""
        return self.norm.text

    def src(self, s: int, e: int) -> tuple[int, int]:
        """The source span of analysis ``[s, e)`` without its outer blanks."""
        text = self.norm.text
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        return self.norm.span_to_source(s, e)

    def source_text(self, s: int, e: int) -> str:
        """The source text of analysis ``[s, e)`` without its outer blanks."""
        start, end = self.src(s, e)
        return self.source[start:end]
