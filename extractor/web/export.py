"""Downloads a researcher opens: CSV for Excel and .xlsx, from any list of rows.

CSV is UTF-8 with a byte-order mark (Excel otherwise reads 丰台区 as mojibake), headers in
Chinese (English beside them), one line per row (line breaks inside a cell become spaces),
sent as an attachment so the browser downloads it rather than showing text in a tab. ``.xlsx``
is written with openpyxl.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from datasette.utils.asgi import Response

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
_SAFE_NAME = re.compile(r"[^\w.-]+")
_TAGS = re.compile(r"<[^>]*>")
XLSX_CELL_MAX = 32767  # Excel's limit on the characters of one cell


def plain_text(markup: str) -> str:
    """Text of an HTML snippet (``…<mark>扬尘</mark>管控…`` -> ``…扬尘管控…``)."""
    return html.unescape(_TAGS.sub("", markup))


def one_line(value):
    """A cell on one line: line breaks (and the spaces around them) become one space."""
    return _BREAKS.sub(" ", value) if isinstance(value, str) else value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 CSV with a BOM, one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else one_line(v) for v in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence], sheet: str = "policy-kb") -> bytes:
    """An .xlsx workbook with one sheet: a bold header row, then the rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31] or "policy-kb")
    bold = Font(bold=True)
    from openpyxl.cell import WriteOnlyCell

    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([_xlsx_value(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _xlsx_value(ws, v):
    if isinstance(v, str):
        v = one_line(v)
        if len(v) > XLSX_CELL_MAX:  # Excel refuses longer cells: cut, and say so in the cell
            v = v[: XLSX_CELL_MAX - 1] + "…"
        if v[:1] == "=":  # openpyxl would write a formula: keep the text as text
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"
            return cell
    return v


def filename(stem: str, fmt: str) -> str:
    """A download name: ``policykb-<stem>.<fmt>`` (Chinese kept, unsafe characters dropped)."""
    stem = _SAFE_NAME.sub("-", stem).strip("-") or "export"
    return f"policykb-{stem}.{fmt}"


def download(fmt: str, stem: str, headers: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A download response (Content-Disposition: attachment) in ``fmt`` ("csv" or "xlsx")."""
    if fmt == "xlsx":
        body, content_type = xlsx_bytes(headers, rows), XLSX_TYPE
    else:
        body, content_type = csv_bytes(headers, rows), "text/csv; charset=utf-8"
    name = filename(stem, fmt)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, content_type=content_type, headers={"content-disposition": disposition})
