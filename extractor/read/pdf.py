"""Read a PDF into page-aware text (``read_pdf``), laid out like the .txt corpus.

Government PDFs are typeset for print. What we emit is what a reader of the page sees as text:

- running headers/footers (lines repeated at the top or bottom of many pages) and page-number
  lines (``- 12 -``, ``— 12 —``, ``第 3 页``) are not emitted at all;
- lines wrapped inside a paragraph are joined without a space (Chinese has none); a paragraph
  starts at a first-line indent, a heading number (第一章, 一、, （一）), after a line that ends
  well before the right margin, or after a vertical gap; a paragraph that runs over a page
  break is joined across it;
- paragraphs are separated by a blank line (``"\\n\\n"``), as in the .txt corpus;
- ruled tables (pdfplumber ``find_tables``) become one line per row of tab-separated cells,
  their words are kept out of the running text, and a table continued on the next page
  continues its rows (a repeated header row is dropped);
- table-of-contents lines (``第一章 …………… - 2 -``) are kept one per line, verbatim, for the
  normalizer to drop.

``SourceText.pages`` holds one ``Page`` per physical page (1-based), contiguous spans of the
text: a page starts at the first character read from it.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber
import regex
from pdfplumber.utils.exceptions import PdfminerException

from extractor.errors import EmptyDocumentError, PdfError
from extractor.model import Page, SourceText

PAGE_NUMBER = regex.compile(
    r"""^\s*(?:
        [-—–－‒―~～]\s*\d{1,4}\s*[-—–－‒―~～]
      | 第\s*[\d一二三四五六七八九十百零〇]+\s*页(?:\s*[，,/、]?\s*共\s*\d+\s*页)?
      | \d{1,4}\s*/\s*\d{1,4}
      | \d{1,4}
      | (?i:page)\s*\d+(?:\s*(?i:of)\s*\d+)?
    )\s*$""",
    regex.VERBOSE,
)
HEADING = regex.compile(
    r"^\s*(?:第[一二三四五六七八九十百零〇\d]+[章节篇部]|[一二三四五六七八九十]+、"
    r"|[（(][一二三四五六七八九十]+[）)]|附件\s*\d*[：:]?$)"
)
TOC_LINE = regex.compile(  # "标题......12", "标题 ...... - 12 -", "标题 - 12 -", "标题 12 -"
    r"(?:[.…·．]{3,}\s*[-—–－]?\s*\d{1,4}\s*[-—–－]?"
    r"|[-—–－]\s*\d{1,4}\s*[-—–－]|\s\d{1,4}\s*[-—–－])\s*$"
)
NUMBER_CELL = regex.compile(r"^[<>≤≥＜＞~约]*\s*[\d.,%]+\s*%?$")
CONTINUED_TABLE = regex.compile(r"^\s*续表\s*\d*\s*$")

MARGIN_ZONE = 0.12  # top/bottom fraction of the page where running headers/footers live
INDENT_CHARS = 1.2  # x0 this many character widths right of the left margin: a paragraph start
SHORT_CHARS = 1.5  # x1 this many character widths left of the right margin: a paragraph end
KINSOKU_CHARS = 3.5  # ...unless it is short by less than this and does not end a sentence
LATIN_RUN = regex.compile(r"(?:[0-9A-Za-z.,%‰+\-/_{}₀-₉]+[、，。；：）)%]?)+")
SENTENCE_END = regex.compile(r"[。！？；：…!?;:][”’」』）)]?\s*$")
GAP_PITCHES = 1.6  # a vertical gap above this many line pitches: a paragraph start


@dataclass
class Line:
    """A text line of one page, outside any table (pdfplumber coordinates: top grows down)."""

    page: int  # 0-based page index
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # median font size of its characters
    page_height: float


@dataclass
class Table:
    """A ruled table of one page: rows of cell texts."""

    page: int
    top: float
    bottom: float
    rows: list[list[str]]


@dataclass
class Block:
    """A paragraph or a table of the output, as (page index, text) segments in reading order."""

    kind: str  # "para" | "toc" | "table"
    segments: list[tuple[int, str]] = field(default_factory=list)
    header: list[str] | None = None  # first row, for a table
    ncols: int = 0


@dataclass(frozen=True)
class Layout:
    """Text-block geometry of a document, measured from its lines (odd/even pages apart)."""

    left: dict[int, float]  # page parity -> left margin x
    right: dict[int, float]  # page parity -> right margin x
    char: float  # a CJK character's width (the body font size)
    pitch: float  # distance between consecutive line tops


def read_pdf(path: Path) -> SourceText:
    """Read ``path`` into a ``SourceText`` (format "pdf") with one ``Page`` per physical page.

    Raises ``PdfError`` for an encrypted, truncated or corrupt file and for a PDF without a text
    layer (a scan), ``EmptyDocumentError`` for a PDF with nothing on its pages.
    """
    path = Path(path)
    items, n_pages = _read_items(path)
    lines = _drop_running_lines([i for i in items if isinstance(i, Line)], n_pages)
    kept_ids = {id(line) for line in lines}
    kept = [i for i in items if isinstance(i, Table) or id(i) in kept_ids]
    blocks = _blocks(kept, _layout(lines))
    text, pages = _assemble(blocks, n_pages)
    if not text.strip():
        raise EmptyDocumentError("the PDF holds no text besides page headers/footers", path=path)
    return SourceText(path=path, text=text, format="pdf", encoding=None, pages=pages)


def _read_items(path: Path) -> tuple[list[Line | Table], int]:
    """Every page's text lines and tables in reading order (top to bottom), and the page count."""
    items: list[Line | Table] = []
    has_graphics = False
    n_chars = n_unmapped = 0
    try:
        with pdfplumber.open(path) as pdf:
            n_pages = len(pdf.pages)
            for index, page in enumerate(pdf.pages):
                has_graphics = has_graphics or bool(page.images or page.rects or page.curves)
                n_chars += len(page.chars)
                n_unmapped += sum(c["text"].startswith("(cid:") for c in page.chars)
                items.extend(_page_items(page.dedupe_chars(), index))
    except PdfminerException as exc:
        raise _pdf_error(path, exc.args[0] if exc.args else exc) from exc
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PdfError(f"cannot read the PDF: {type(exc).__name__}: {exc}", path=path) from exc
    if n_unmapped > n_chars / 2:
        raise PdfError(
            "the PDF's fonts have no Unicode mapping: its text layer reads as "
            "(cid:N) codes (treat it as a scan: OCR it first)",
            path=path,
        )
    if not any(isinstance(i, Line) for i in items) and not any(
        isinstance(i, Table) and any(any(r) for r in i.rows) for i in items
    ):
        if has_graphics:
            raise PdfError("the PDF has no text layer (scanned? it needs OCR first)", path=path)
        raise EmptyDocumentError(f"the PDF has no text on its {n_pages} page(s)", path=path)
    return items, n_pages


def _pdf_error(path: Path, cause: object) -> PdfError:
    """A ``PdfError`` that says what pdfminer found wrong."""
    name = type(cause).__name__
    if name in {"PDFPasswordIncorrect", "PDFEncryptionError", "PDFEncryptionWarning"}:
        return PdfError(f"the PDF is encrypted and cannot be opened without a password ({name})", path=path)
    reason = str(cause) or name
    return PdfError(f"truncated or corrupt PDF: {name}: {reason}", path=path)


def _page_items(page: pdfplumber.page.Page, index: int) -> list[Line | Table]:
    """The lines (outside tables) and the tables of one page, sorted top to bottom."""
    tables = page.find_tables() if (page.rects or page.lines) else []
    boxes = [t.bbox for t in tables]

    def outside_tables(obj: dict) -> bool:
        if obj.get("object_type") != "char":
            return True
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

    text_page = page.filter(outside_tables) if boxes else page
    items: list[Line | Table] = []
    for raw in text_page.extract_text_lines(return_chars=True):
        text = raw["text"].strip()
        if text:
            sizes = [c["size"] for c in raw["chars"] if not c["text"].isspace()] or [0.0]
            items.append(
                Line(
                    index,
                    text,
                    raw["x0"],
                    raw["x1"],
                    raw["top"],
                    raw["bottom"],
                    statistics.median(sizes),
                    float(page.height),
                )
            )
    for table in tables:
        rows = [[_cell_text(c) for c in row] for row in table.extract()]
        rows = [r for r in rows if any(r)]
        if rows:
            items.append(Table(index, table.bbox[1], table.bbox[3], rows))
    items.sort(key=lambda i: i.top)
    return items


def _cell_text(cell: str | None) -> str:
    """A table cell on one line: internal line breaks removed, tabs made spaces."""
    if not cell:
        return ""
    return "".join(part.strip() for part in cell.splitlines()).replace("\t", " ").strip()


def _drop_running_lines(lines: list[Line], n_pages: int) -> list[Line]:
    """``lines`` without page-number lines and running headers/footers.

    A page-number line is dropped when it is in the top/bottom zone of its page or is the first
    or last line of the page; a running header/footer is a text (digits aside) that sits in the
    same zone on at least half the pages (and on at least two).
    """
    by_page: dict[int, list[Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    keys = {id(line): _running_key(line) for line in lines}
    pages_of: dict[tuple[str | None, str], set[int]] = {}
    for line in lines:
        pages_of.setdefault(keys[id(line)], set()).add(line.page)
    threshold = max(2, n_pages / 2)
    repeated = {key for key, pages in pages_of.items() if key[0] and len(pages) >= threshold}
    kept = []
    for line in lines:
        zone = keys[id(line)][0]
        page_lines = by_page[line.page]
        edge = line is page_lines[0] or line is page_lines[-1]
        if PAGE_NUMBER.match(line.text) and (zone or edge):
            continue
        if keys[id(line)] in repeated:
            continue
        kept.append(line)
    return kept


def _running_key(line: Line) -> tuple[str | None, str]:
    """(margin zone or None, text with digits masked): equal keys on many pages repeat."""
    zone = None
    if line.bottom <= line.page_height * MARGIN_ZONE:
        zone = "top"
    elif line.top >= line.page_height * (1 - MARGIN_ZONE):
        zone = "bottom"
    return zone, regex.sub(r"\d+", "#", regex.sub(r"\s+", "", line.text))


def _layout(lines: list[Line]) -> Layout:
    """Margins, character width and line pitch of the body text."""
    sizes = [round(line.size, 1) for line in lines if line.size > 0]
    char = Counter(sizes).most_common(1)[0][0] if sizes else 12.0
    body = [line for line in lines if abs(line.size - char) < 1.0] or lines
    left: dict[int, float] = {}
    right: dict[int, float] = {}
    for parity in (0, 1):
        group = [line for line in body if line.page % 2 == parity]
        if len(group) < 8:
            group = body
        if not group:
            left[parity], right[parity] = 0.0, 1e9
            continue
        left[parity] = _quantile(sorted(line.x0 for line in group), 0.1)
        right[parity] = _quantile(sorted(line.x1 for line in group), 0.9)
    steps = [
        b.top - a.top
        for a, b in itertools.pairwise(body)
        if a.page == b.page and 0 < b.top - a.top < 3 * char
    ]
    pitch = statistics.median(steps) if steps else 1.5 * char
    return Layout(left=left, right=right, char=char, pitch=pitch)


def _quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values`` (nearest rank)."""
    return values[min(len(values) - 1, int(q * len(values)))]


def _blocks(items: list[Line | Table], layout: Layout) -> list[Block]:
    """Group lines into paragraphs and TOC entries, and tables (across page breaks) into blocks."""
    blocks: list[Block] = []
    prev: Line | Table | None = None
    for item in items:
        if isinstance(item, Table):
            _add_table(blocks, prev, item)
        elif isinstance(prev, Table) and CONTINUED_TABLE.match(item.text):
            continue  # a "续表" caption over the rest of a table: keep `prev` the table
        else:
            toc = _is_toc(item.text)
            new = prev is None or isinstance(prev, Table) or toc
            if new or _starts_paragraph(prev, item, layout):
                blocks.append(Block("toc" if toc else "para"))
            blocks[-1].segments.append((item.page, item.text))
        prev = item
    return blocks


def _add_table(blocks: list[Block], prev: Line | Table | None, table: Table) -> None:
    """Append ``table`` as a new block, or as more rows of the table it continues."""
    last = blocks[-1] if blocks else None
    if last and isinstance(prev, Table) and _continues_table(last, prev, table):
        rows = table.rows[1:] if table.rows[0] == last.header else table.rows
        if rows and _row_fragment(rows[0]) and last.segments:  # a row split by the page break
            page, text = last.segments[-1]
            cells = [a + b for a, b in zip(text.split("\t"), rows[0])]
            last.segments[-1] = (page, "\t".join(cells))
            rows = rows[1:]
        last.segments += [(table.page, "\t".join(row)) for row in rows]
    else:
        segments = [(table.page, "\t".join(row)) for row in table.rows]
        blocks.append(Block("table", segments, header=table.rows[0], ncols=len(table.rows[0])))


def _is_toc(text: str) -> bool:
    """A table-of-contents entry: a title ending in dot leaders and/or a dashed page number."""
    return bool(TOC_LINE.search(text)) and not PAGE_NUMBER.match(text)


def _continues_table(block: Block, prev: Table, table: Table) -> bool:
    """Whether ``table`` (first on its page) continues ``block`` (last on the page before).

    It must have as many columns and must not open with a header row of its own (a row of
    non-numeric labels that differs from the table's header: a new table); a repeated header
    row equal to the first one is a continuation.
    """
    if table.page != prev.page + 1 or len(table.rows[0]) != block.ncols:
        return False
    first = table.rows[0]
    return first == block.header or not _header_like(first)


def _row_fragment(row: list[str]) -> bool:
    """The rest of a row cut by a page break: no row number, no number of its own, some text."""
    return not row[0].strip() and any(c.strip() for c in row) and not any(NUMBER_CELL.match(c) for c in row)


def _header_like(row: list[str]) -> bool:
    """A row of labels: every cell filled and none of them a bare number."""
    return all(row) and not any(NUMBER_CELL.match(cell) for cell in row)


def _starts_paragraph(prev: Line, line: Line, layout: Layout) -> bool:
    """Whether ``line`` starts a new paragraph rather than continuing the one ``prev`` ends."""
    char = layout.char
    if _title_continues(prev, line, layout):
        return False
    if line.x0 - layout.left[line.page % 2] >= INDENT_CHARS * char:
        return True  # first-line indent (or a centred line)
    if HEADING.match(line.text):
        return True
    shortfall = layout.right[prev.page % 2] - prev.x1
    if shortfall > SHORT_CHARS * char and not _kinsoku_wrap(prev, line, shortfall, char):
        return True  # the previous line ended well before the margin
    if abs(line.size - prev.size) > 1.0:
        return True
    same_page = prev.page == line.page
    return same_page and line.top - prev.top > GAP_PITCHES * layout.pitch


def _kinsoku_wrap(prev: Line, line: Line, shortfall: float, char: float) -> bool:
    """A line broken early by line-breaking rules, so the paragraph goes on: an opening bracket
    may not end a line nor a closing one start it (short by under ``KINSOKU_CHARS``), and a
    run of digits or Latin letters (58.6%、) is not split (short by less than the run). A line
    that ends a sentence is not continued."""
    if SENTENCE_END.search(prev.text):
        return False
    run = LATIN_RUN.match(line.text)
    allowance = KINSOKU_CHARS + (0.6 * len(run.group()) if run else 0.0)
    return shortfall < allowance * char


def _title_continues(prev: Line, line: Line, layout: Layout) -> bool:
    """Whether ``line`` is the next line of a centred title set larger than the body text."""
    if prev.page != line.page or abs(prev.size - line.size) > 0.5 or line.size < layout.char + 1:
        return False
    if line.top - prev.top > 2 * line.size:
        return False
    left, right = layout.left[line.page % 2], layout.right[line.page % 2]
    return all(abs((x.x0 - left) - (right - x.x1)) < 2 * layout.char for x in (prev, line))


def _assemble(blocks: list[Block], n_pages: int) -> tuple[str, list[Page]]:
    """Join blocks into the text and cut it into contiguous pages."""
    parts: list[str] = []
    offset = 0
    page_start: dict[int, int] = {}
    prev_kind = None
    for block in blocks:
        if parts:
            sep = "\n" if block.kind == prev_kind == "toc" else "\n\n"
            parts.append(sep)
            offset += len(sep)
        for k, (page, segment) in enumerate(block.segments):
            if k:
                joiner = _joiner(block.kind, parts[-1], segment)
                parts.append(joiner)
                offset += len(joiner)
            page_start.setdefault(page, offset)
            parts.append(segment)
            offset += len(segment)
        prev_kind = block.kind
    text = "".join(parts)
    starts = [0] * n_pages
    following = len(text)
    for index in range(n_pages - 1, -1, -1):
        starts[index] = following = page_start.get(index, following)
    if starts:
        starts[0] = 0
    ends = [*starts[1:], len(text)]
    return text, [Page(i + 1, s, e) for i, (s, e) in enumerate(zip(starts, ends))]


def _joiner(kind: str, before: str, after: str) -> str:
    """What joins two segments of a block: a row break in a table, else nothing (Chinese) or
    a space between two Latin words or numbers."""
    if kind == "table":
        return "\n"
    if regex.search(r"[A-Za-z0-9]$", before) and regex.match(r"[A-Za-z0-9]", after):
        return " "
    return ""
