"""Render corpus texts into PDF and DOCX fixtures at test time (no committed binaries).

The PDF looks like a government plan: A4, the plan title as a running header with a rule under
it, ``- N -`` page numbers at the bottom (right on odd pages, left on even ones), 14 pt body
text with a two-character first-line indent, justified lines broken by character width (Latin
runs unbroken, no closing punctuation at a line start), centred titles, table-of-contents lines
with dot leaders, and ruled tables (reportlab ``Table`` with a grid, merged category cells).

Every body line and table cell records the page it was drawn on (``RenderedPdf.lines``), which
is the ground truth the tests compare the reader against.
"""

from __future__ import annotations

import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import regex
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

SIZE = 14.0  # body font size: one CJK character is SIZE points wide
LEADING = 24.0
LEFT, RIGHT, TOP, BOTTOM = 80.0, 74.0, 95.0, 85.0
WIDTH = A4[0] - LEFT - RIGHT
# STSong-Light has no glyph for these; U+30FB comes back out of the PDF as U+00B7.
GLYPH_SUBSTITUTES = str.maketrans({"·": "・", "₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5"})
NO_LINE_START = set("，。、；：？！）》」』”’％%,.;:!?)]")
NO_LINE_END = set("（《「『“‘([")
TOKENS = regex.compile(r"[A-Za-z0-9.%_+\-/]+|\s|.")
ITEM_HEADING = regex.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.．、])")
TOC_PAGE = regex.compile(r"^[-—]?\s*\d+\s*[-—]?$")


@dataclass
class Block:
    """A unit of the source text: a centred line, a paragraph, a TOC entry or a table."""

    kind: str  # "centre" | "para" | "toc" | "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    page_label: str = ""  # for "toc": the page number as printed
    size: float = SIZE  # font size of a "centre" block (a title set larger)
    indent: int = 2  # first-line indent of a "para" block, in characters


@dataclass
class Rendered:
    """A rendered fixture and where each piece of its body text was drawn (1-based pages)."""

    path: Path
    lines: list[tuple[int, str]]  # (page, text) in reading order: lines, cells, paragraphs
    n_pages: int

    def stream(self) -> tuple[str, list[int]]:
        """The drawn text without whitespace, and the page of each of its characters."""
        chars: list[str] = []
        pages: list[int] = []
        for page, text in self.lines:
            for ch in regex.sub(r"\s+", "", text.replace("・", "·")):
                chars.append(ch)
                pages.append(page)
        return "".join(chars), pages


def parse_blocks(text: str, *, for_pdf: bool = True) -> list[Block]:
    """Blocks of a corpus text: blank-line separated lines, tab-separated runs as TOC or tables.

    ``for_pdf`` replaces the characters the PDF font has no glyph for (GLYPH_SUBSTITUTES).
    """
    blocks: list[Block] = []
    if for_pdf:
        text = text.translate(GLYPH_SUBSTITUTES)
    for chunk in regex.split(r"\n\s*\n", text):
        lines = [line for line in chunk.split("\n") if line.strip()]
        i = 0
        while i < len(lines):
            if "\t" not in lines[i]:
                line = lines[i].strip()
                blocks.append(Block("centre" if _centred(line) else "para", line))
                i += 1
                continue
            j = i
            while j < len(lines) and "\t" in lines[j]:
                j += 1
            rows = [line.split("\t") for line in lines[i:j]]
            if all(len(r) == 2 and TOC_PAGE.match(r[1].strip()) for r in rows):
                blocks += [Block("toc", r[0].strip(), page_label=r[1].strip()) for r in rows]
            else:
                ncols = max(len(r) for r in rows)
                blocks.append(Block("table", rows=[r + [""] * (ncols - len(r)) for r in rows]))
            i = j
    return blocks


def _centred(line: str) -> bool:
    """Short title-like lines are centred (chapters, captions, dates), numbered items are not."""
    return len(line) <= 30 and line[-1] not in "。；：，！？" and not ITEM_HEADING.match(line)


def width_of(text: str, size: float = SIZE) -> float:
    return pdfmetrics.stringWidth(text, FONT, size)


def break_lines(text: str, first: float, rest: float, size: float = SIZE) -> list[str]:
    """Break ``text`` into lines of at most ``first`` (then ``rest``) points, Chinese style."""
    lines: list[str] = []
    current, used, avail = "", 0.0, first
    for token in TOKENS.findall(text):
        tw = width_of(token, size)
        if current and used + tw > avail and token not in NO_LINE_START:
            carry = ""
            while current and current[-1] in NO_LINE_END:
                carry, current = current[-1] + carry, current[:-1]
            lines.append(current.rstrip())
            current, avail = carry, rest
            used = width_of(carry, size)
            if token.isspace():
                continue
        current += token
        used += tw
    if current.strip():
        lines.append(current.rstrip())
    return lines


class LoggedParagraph(Paragraph):
    """A table-cell paragraph that records the page it is drawn on."""

    def __init__(self, text: str, style: ParagraphStyle, log: list[tuple[int, str]]):
        super().__init__(escape(text), style)
        self.plain, self.log = text, log

    def drawOn(self, canv, x, y, _sW=0):
        self.log.append((canv.getPageNumber(), self.plain))
        super().drawOn(canv, x, y, _sW)


class Lines(Flowable):
    """Pre-broken lines: (x offset, text, justified); splits between lines at a page end."""

    def __init__(
        self,
        lines: list[tuple[float, str, bool]],
        log: list[tuple[int, str]],
        space_before: float = 0.0,
        size: float = SIZE,
    ):
        super().__init__()
        self.lines, self.log, self.space_before, self.size = lines, log, space_before, size
        self.leading = max(LEADING, size * 1.5)

    def wrap(self, avail_width, avail_height):
        self.width = avail_width
        self.height = self.space_before + self.leading * len(self.lines)
        return self.width, self.height

    def split(self, avail_width, avail_height):
        n = int((avail_height - self.space_before) // self.leading)
        if n <= 0 or n >= len(self.lines):
            return []
        return [
            Lines(self.lines[:n], self.log, self.space_before, self.size),
            Lines(self.lines[n:], self.log, 0.0, self.size),
        ]

    def draw(self):
        page = self.canv.getPageNumber()
        for i, (x, text, justified) in enumerate(self.lines):
            y = self.height - self.space_before - self.leading * (i + 1) + (self.leading - self.size) / 2 + 2
            obj = self.canv.beginText(x, y)
            obj.setFont(FONT, self.size)
            if justified and len(text) > 1:
                obj.setCharSpace((WIDTH - x - width_of(text, self.size)) / (len(text) - 1))
            obj.textOut(text)
            self.canv.drawText(obj)
            self.log.append((page, text))


def paragraph_lines(block: Block) -> list[tuple[float, str, bool]]:
    """The (x, text, justified) lines of a centred line, a paragraph or a TOC entry."""
    if block.kind == "centre":
        size = block.size
        return [
            ((WIDTH - width_of(t, size)) / 2, t, False) for t in break_lines(block.text, WIDTH, WIDTH, size)
        ]
    if block.kind == "toc":
        indent = SIZE * (
            0 if block.text.startswith(("第", "序")) else 1 if not block.text.startswith(("（", "(")) else 2
        )
        tail = " " + block.page_label
        dots = int((WIDTH - indent - width_of(block.text) - width_of(tail)) // width_of("."))
        return [(indent, block.text + "." * max(3, dots) + tail, True)]
    indent = block.indent * SIZE
    texts = break_lines(block.text, WIDTH - indent, WIDTH)
    return [(indent if i == 0 else 0.0, t, i < len(texts) - 1) for i, t in enumerate(texts)]


def table_flowable(rows: list[list[str]], log: list[tuple[int, str]], repeat_rows: int = 0) -> Table:
    """A ruled table; empty cells under a filled one in the category column (1) are merged."""
    style = ParagraphStyle("cell", fontName=FONT, fontSize=10.5, leading=14, wordWrap="CJK", alignment=1)
    data = [[LoggedParagraph(cell, style, log) if cell else "" for cell in row] for row in rows]
    weights = [min(14, max(2, max(len(row[c]) for row in rows))) for c in range(len(rows[0]))]
    widths = [WIDTH * w / sum(weights) for w in weights]
    commands = [("GRID", (0, 0), (-1, -1), 0.6, "black"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if len(rows[0]) > 2:
        start = None
        for r in range(1, len(rows) + 1):
            if r < len(rows) and not rows[r][1] and start is not None:
                continue
            if start is not None and r - start > 1:
                commands.append(("SPAN", (1, start), (1, r - 1)))
            start = r if r < len(rows) and rows[r][1] else None
    return Table(data, colWidths=widths, style=TableStyle(commands), repeatRows=repeat_rows)


def render_pdf(blocks: list[Block], path: Path, title: str, repeat_rows: int = 0) -> Rendered:
    """Render ``blocks`` as a government-style PDF at ``path``.

    ``repeat_rows`` repeats a table's first rows on each page it continues on (they are drawn,
    and logged, again).
    """
    log: list[tuple[int, str]] = []
    story: list[Flowable] = []
    for block in blocks:
        if block.kind == "table":
            story += [Spacer(1, 8), table_flowable(block.rows, log, repeat_rows), Spacer(1, 8)]
        else:
            story.append(Lines(paragraph_lines(block), log, size=block.size))

    def decorate(canv: canvas.Canvas, doc) -> None:
        number = canv.getPageNumber()
        canv.saveState()
        if number > 1:
            canv.setFont(FONT, 10.5)
            canv.drawCentredString(A4[0] / 2, A4[1] - 55, title)
            canv.setLineWidth(0.5)
            canv.line(LEFT, A4[1] - 62, A4[0] - RIGHT, A4[1] - 62)
        canv.setFont(FONT, 12)
        label = f"- {number} -"
        if number % 2:
            canv.drawRightString(A4[0] - RIGHT - SIZE, 45, label)
        else:
            canv.drawString(LEFT + SIZE, 45, label)
        canv.restoreState()

    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=LEFT,
        rightMargin=RIGHT,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=title,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return Rendered(path, log, max((p for p, _ in log), default=0))


def render_text_pdf(text: str, path: Path, title: str) -> Rendered:
    """Render a corpus text (blank-line paragraphs, tab-separated tables) as a PDF."""
    return render_pdf(parse_blocks(text), path, title)


def render_scan_pdf(path: Path) -> Path:
    """A 'scanned' PDF: pages with an image and drawings, no text layer."""
    import io
    import struct
    import zlib

    from reportlab.lib.utils import ImageReader

    def png(width: int, height: int) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(random.Random(y).randrange(256) for _ in range(width)) for y in range(height)
        )

        def chunk(tag: bytes, data: bytes) -> bytes:
            return (
                struct.pack(">I", len(data))
                + tag
                + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
            )

        header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b"")
        )

    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(2):
        c.drawImage(ImageReader(io.BytesIO(png(60, 80))), LEFT, 200, width=400, height=500)
        c.rect(LEFT, 100, 300, 50)
        c.showPage()
    c.save()
    return path


def render_simple_pdf(path: Path, pages: list[list[str]], overprint: float = 0.0, **canvas_options) -> Path:
    """A plain PDF: each page's lines drawn from the top (used for encrypted and blank files).

    ``overprint`` > 0 draws every line a second time that far to the right (fake bold).
    """
    c = canvas.Canvas(str(path), pagesize=A4, **canvas_options)
    for lines in pages:
        c.setFont(FONT, SIZE)
        for i, line in enumerate(lines):
            c.drawString(LEFT, A4[1] - TOP - LEADING * (i + 1), line)
            if overprint:
                c.drawString(LEFT + overprint, A4[1] - TOP - LEADING * (i + 1), line)
        c.showPage()
    c.save()
    return path


def truncate(source: Path, path: Path) -> Path:
    """A copy of ``source`` cut in half."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def zip_without_document(path: Path) -> Path:
    """A zip archive that looks like a .docx but holds no word/document.xml."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types '
            'xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        archive.writestr("docProps/app.xml", "<Properties/>")
    return path


CHAPTER = regex.compile(r"^第[一二三四五六七八九十]+章")
HEADING_STYLES = [
    (CHAPTER, "Heading 1"),
    (regex.compile(r"^[一二三四五六七八九十]+、"), "Heading 2"),
    (regex.compile(r"^[（(][一二三四五六七八九十]+[）)]"), "Heading 3"),
]


def render_docx(blocks: list[Block], path: Path) -> Rendered:
    """Render ``blocks`` as a .docx: Heading styles for numbered headings (one-line blocks),
    first-line indents, real tables (merged category cells), a page break before each chapter.

    ``Rendered.lines`` holds each paragraph and table cell with the page it starts on.
    """
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = docx.Document()
    log: list[tuple[int, str]] = []
    page = 1
    for block in blocks:
        if block.kind == "table":
            _docx_table(document, block.rows, page, log)
            continue
        text = block.text if block.kind != "toc" else f"{block.text}\t{block.page_label}"
        if block.kind != "toc" and CHAPTER.match(text) and log:
            document.add_page_break()
            page += 1
        style = next((s for rx, s in HEADING_STYLES if rx.match(text) and len(text) <= 40), None)
        paragraph = document.add_paragraph(text.replace("・", "·"), style=style)
        if block.kind == "centre" and style is None:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind == "para" and style is None:
            paragraph.paragraph_format.first_line_indent = Pt(2 * SIZE)
        log.append((page, text))
    document.save(str(path))
    return Rendered(path, log, page)


def _docx_table(document, rows: list[list[str]], page: int, log: list[tuple[int, str]]) -> None:
    """A 'Table Grid' table; empty category cells (column 1) merge into the one above."""
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell:
                table.cell(r, c).text = cell.replace("・", "·")
                log.append((page, cell))
    if len(rows[0]) > 2:
        for r in range(1, len(rows)):
            if not rows[r][1]:
                top = r - 1
                while top > 0 and not rows[top][1]:
                    top -= 1
                if rows[top][1]:
                    table.cell(top, 1).merge(table.cell(r, 1))
