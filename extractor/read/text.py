"""Read a source file into a ``SourceText``: the decoded text the extractor reads and cites.

``.txt`` is decoded strictly as UTF-8 (with or without BOM), UTF-16 (with a BOM), GB18030 (a
superset of GBK and GB2312), then UTF-16 without a BOM if that reads as Chinese text. A file that none of them decodes cleanly, or that
decodes to text with control characters, is a ``DecodeError`` naming the file: the KB never
holds mojibake. ``.pdf`` and ``.docx`` are read by ``extractor.read.pdf`` and ``extractor.read.word``.
"""

from __future__ import annotations

from pathlib import Path

import regex

from extractor.errors import DecodeError, EmptyDocumentError, SourceError, UnsupportedFormatError
from extractor.model import SourceText

SUPPORTED_SUFFIXES = (".txt", ".pdf", ".docx")

# Control characters other than tab/newline/CR/form feed mean a wrong decoding (or a binary file).
_BAD_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HAN = regex.compile(r"\p{Han}")


def _reads_as_chinese(text: str) -> bool:
    """Mostly Han characters, with the commonest function characters of Chinese prose: random
    bytes decoded as UTF-16 give Han characters too, but rarely ，。、的."""
    return len(_HAN.findall(text)) >= 0.3 * len(text.strip()) and any(c in text for c in "，。、的")


def decode_text(data: bytes, path: Path | str = "<bytes>") -> tuple[str, str]:
    """Decode ``data``; return ``(text, encoding)`` or raise ``DecodeError``/``EmptyDocumentError``."""
    if not data.strip():
        raise EmptyDocumentError("the file is empty", path=path)
    candidates: list[tuple[str, bytes]] = []
    if data.startswith(b"\xef\xbb\xbf"):
        candidates.append(("utf-8-sig", data[3:]))
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates.append(("utf-16", data))
    else:
        candidates += [("utf-8", data), ("gb18030", data)]
        if len(data) % 2 == 0:  # UTF-16 without a BOM: accepted only if it reads as Chinese
            candidates += [("utf-16-le", data), ("utf-16-be", data)]
    reasons = []
    for encoding, payload in candidates:
        try:
            text = payload.decode(encoding.replace("-sig", ""))
        except UnicodeDecodeError as exc:
            reasons.append(f"not {encoding} (byte {exc.start}: {exc.reason})")
            continue
        if _BAD_CONTROL.search(text):
            reasons.append(f"{encoding} decoding gives control characters")
            continue
        if encoding == "gb18030" and not _HAN.search(text):
            reasons.append("gb18030 decoding gives no Chinese text")
            continue
        if encoding.startswith("utf-16-") and not _reads_as_chinese(text):
            reasons.append(f"{encoding} decoding does not read as Chinese")
            continue
        if not text.strip():
            raise EmptyDocumentError("the file holds only whitespace", path=path)
        return text, encoding
    raise DecodeError(
        "cannot decode the text as UTF-8, UTF-16 or GB18030/GBK: "
        + "; ".join(reasons)
        + ". Save it as UTF-8 and build again.",
        path=path,
    )


def read_text_file(path: Path) -> SourceText:
    """Read a ``.txt`` file (see module docstring)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    text, encoding = decode_text(data, path)
    return SourceText(path=path, text=text, format="txt", encoding=encoding)


def read_source(path: str | Path) -> SourceText:
    """Read any supported file by its extension."""
    path = Path(path)
    if not path.exists():
        raise SourceError("the file does not exist", path=path)
    if path.is_file() and path.stat().st_size == 0:
        raise EmptyDocumentError("the file is empty", path=path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        source = read_text_file(path)
    elif suffix == ".pdf":
        from extractor.read.pdf import read_pdf

        source = read_pdf(path)
    elif suffix == ".docx":
        from extractor.read.word import read_docx

        source = read_docx(path)
    else:
        raise UnsupportedFormatError(
            f"unsupported file type {suffix or '(none)'}; policy-kb reads {', '.join(SUPPORTED_SUFFIXES)}",
            path=path,
        )
    if not source.text.strip():
        raise EmptyDocumentError("the document holds no text", path=path)
    return source
