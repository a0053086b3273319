"""Read a Word .docx into page-aware text (``read_docx``), laid out like the .txt corpus.

- The body is read in order, paragraphs interleaved with tables. Each non-empty paragraph is
  one block (headings included: their text is on its own line whatever the style); blocks are
  separated by a blank line (``"\\n\\n"``). A soft line break (``w:br``) inside a paragraph is
  a ``"\\n"``, a tab is a ``"\\t"``.
- A table is one line per row of tab-separated cells (cell-internal breaks removed); a cell
  spanning several grid columns is followed by empty cells, a vertically merged cell's
  continuation is an empty cell, as in the .txt corpus.
- Pages: when Word saved where it broke pages (``w:lastRenderedPageBreak``), those marks give
  the pages; otherwise explicit breaks do (``w:br w:type="page"``, ``w:pageBreakBefore``, a
  section break that starts a new page). A document without any gives ``pages=[]``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from lxml import etree

from extractor.errors import DocxError, EmptyDocumentError
from extractor.model import Page, SourceText

BREAK = "\f"  # a page-break mark inside collected text; never emitted

P, TBL, TR, TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
T, TAB, BR, CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
RENDERED = qn("w:lastRenderedPageBreak")
NO_BREAK_HYPHEN = qn("w:noBreakHyphen")
TYPE, VAL = qn("w:type"), qn("w:val")
SDT, SDT_CONTENT, CUSTOM_XML = qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")


@dataclass
class _Writer:
    """Accumulates the text and the offsets at which pages start."""

    parts: list[str] = field(default_factory=list)
    offset: int = 0
    pending_breaks: int = 0
    page_starts: list[int] = field(default_factory=list)  # start offset of pages 2, 3, ...

    def block(self, pieces: str) -> None:
        """Write one block (a paragraph, or a table's rows) that may hold ``BREAK`` marks."""
        if not pieces.replace(BREAK, "").strip():
            self.pending_breaks += pieces.count(BREAK)
            return
        if self.parts:
            self.write("\n\n")
        for k, piece in enumerate(pieces.split(BREAK)):
            if k:
                self.pending_breaks += 1
            if piece:
                if self.pending_breaks:
                    self.page_starts += [self.offset] * self.pending_breaks
                    self.pending_breaks = 0
                self.write(piece)

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.offset += len(text)

    def pages(self) -> list[Page]:
        """Contiguous pages, or [] when the document had no page breaks before any text."""
        if not self.page_starts:
            return []
        starts = [0, *self.page_starts]
        ends = [*starts[1:], self.offset]
        return [Page(i + 1, s, e) for i, (s, e) in enumerate(zip(starts, ends))]


def read_docx(path: Path) -> SourceText:
    """Read ``path`` into a ``SourceText`` (format "docx"), with pages where breaks are known.

    Raises ``DocxError`` for a file that is not a zip archive or not a Word document (corrupt),
    ``EmptyDocumentError`` for a document without text.
    """
    path = Path(path)
    body = _open_body(path)
    rendered = any(True for _ in body.iter(RENDERED))
    writer = _Writer()
    for child in _block_items(body):
        if child.tag == P:
            writer.block(_paragraph_text(child, rendered))
        elif child.tag == TBL:
            rows = [_row_text(tr, rendered) for tr in child.iter(TR) if _owner(tr) is child]
            writer.block("\n".join(r for r in rows if r.replace(BREAK, "").strip("\t")))
    text = "".join(writer.parts)
    if not text.strip():
        raise EmptyDocumentError("the Word document holds no text", path=path)
    return SourceText(path=path, text=text, format="docx", encoding=None, pages=writer.pages())


def _open_body(path: Path) -> etree._Element:
    """The ``w:body`` element of the document, or a ``DocxError`` naming what is wrong."""
    if not path.is_file():
        raise DocxError("no such file", path=path)
    if not zipfile.is_zipfile(path):
        with path.open("rb") as fh:
            head = fh.read(4)
        if head == b"PK\x03\x04":  # a zip's first entry, but no central directory at the end
            raise DocxError("truncated or damaged .docx: the zip archive's end is missing", path=path)
        if head == b"\xd0\xcf\x11\xe0":  # OLE2 compound file: Word 97-2003
            raise DocxError("an old binary Word .doc, not a .docx: save it as .docx or .txt", path=path)
        raise DocxError("not a .docx file (not a zip archive)", path=path)
    try:
        document = docx.Document(str(path))
    except (OpcError, KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise DocxError(f"corrupt .docx: {type(exc).__name__}: {exc}", path=path) from exc
    return document.element.body


def _block_items(parent: etree._Element):
    """The paragraphs and tables of ``parent`` in order, also those inside content controls
    (``w:sdt``, where Word puts a generated table of contents) and custom XML."""
    for child in parent:
        if child.tag in (P, TBL):
            yield child
        elif child.tag in (SDT, CUSTOM_XML):
            content = child.find(SDT_CONTENT) if child.tag == SDT else child
            if content is not None:
                yield from _block_items(content)


def _owner(element: etree._Element) -> etree._Element | None:
    """The nearest enclosing ``w:tbl`` of a row (to skip rows of nested tables)."""
    parent = element.getparent()
    while parent is not None and parent.tag != TBL:
        parent = parent.getparent()
    return parent


def _paragraph_text(p: etree._Element, rendered: bool) -> str:
    """A paragraph's text with ``BREAK`` marks where pages break (see module docstring)."""
    out: list[str] = []
    ppr = p.find(qn("w:pPr"))
    if not rendered and ppr is not None and _on(ppr.find(qn("w:pageBreakBefore"))):
        out.append(BREAK)
    for el in p.iter(T, TAB, BR, CR, RENDERED, NO_BREAK_HYPHEN):
        if el.tag == T:
            out.append(el.text or "")
        elif el.tag == TAB:
            out.append("\t")
        elif el.tag == NO_BREAK_HYPHEN:
            out.append("-")
        elif el.tag == CR:
            out.append("\n")
        elif el.tag == BR:
            kind = el.get(TYPE, "textWrapping")
            if kind == "page":
                out.append("" if rendered else BREAK)
            elif kind == "textWrapping":
                out.append("\n")
        elif rendered:  # w:lastRenderedPageBreak
            out.append(BREAK)
    if not rendered and ppr is not None:
        sect = ppr.find(qn("w:sectPr"))
        if sect is not None:
            kind = sect.find(qn("w:type"))
            if kind is None or kind.get(VAL) != "continuous":
                out.append(BREAK)
    return BREAK.join(piece.strip(" \u3000") for piece in "".join(out).split(BREAK))


def _on(element: etree._Element | None) -> bool:
    """Whether an on/off property element is present and not switched off."""
    return element is not None and element.get(VAL, "true") not in {"0", "false", "off"}


def _row_text(tr: etree._Element, rendered: bool) -> str:
    """A table row as tab-separated cells; ``BREAK`` marks in cells move to the row start."""
    cells: list[str] = []
    breaks = 0
    for tc in tr.findall(TC):
        tcpr = tc.find(qn("w:tcPr"))
        span, merged = 1, False
        if tcpr is not None:
            grid = tcpr.find(qn("w:gridSpan"))
            span = int(grid.get(VAL, "1")) if grid is not None else 1
            vmerge = tcpr.find(qn("w:vMerge"))
            merged = vmerge is not None and vmerge.get(VAL, "continue") == "continue"
        text = "".join(_paragraph_text(p, rendered) for p in tc.iter(P))
        breaks += text.count(BREAK)
        text = "".join(text.replace(BREAK, "").split("\n")).replace("\t", " ").strip()
        cells += ["" if merged else text] + [""] * (span - 1)
    return BREAK * breaks + "\t".join(cells)
