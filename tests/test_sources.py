"""Reading text files: UTF-8, UTF-8 with BOM, GB18030/GBK; errors name the file."""

from __future__ import annotations

import pytest

from extractor.errors import DecodeError, EmptyDocumentError, SourceError, UnsupportedFormatError
from extractor.read.text import read_source

SAMPLE = "蓝天保卫战方面：降尘量控制在5吨/平方公里·月左右，PM2.5年均浓度不高于30微克/立方米。"


@pytest.mark.parametrize(
    "encoding,expected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
    ],
)
def test_encodings_are_detected(tmp_path, encoding, expected):
    path = tmp_path / "doc.txt"
    path.write_bytes(SAMPLE.encode(encoding))
    source = read_source(path)
    assert source.text == SAMPLE
    assert source.encoding == expected


def test_bom_is_not_part_of_the_text(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "一是".encode())
    assert read_source(path).text == "一是"


@pytest.mark.parametrize(
    "data,error,reason",
    [
        (b"", EmptyDocumentError, "empty"),
        (b"  \n\t ", EmptyDocumentError, "empty"),
        (b"\x00\x01\x02\xff\xfe\x00binary", DecodeError, "cannot decode"),
        (b"\x00\x00abc", DecodeError, "cannot decode"),
        (bytes(range(0x80, 0x100)) * 3, DecodeError, "cannot decode"),
    ],
)
def test_bad_text_files_raise_named_errors(tmp_path, data, error, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(error) as info:
        read_source(path)
    assert "bad.txt" in str(info.value) and reason in str(info.value)


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "plan.rtf").write_text("x")
    with pytest.raises(UnsupportedFormatError, match=r"plan\.rtf"):
        read_source(tmp_path / "plan.rtf")
    with pytest.raises(SourceError, match="does not exist"):
        read_source(tmp_path / "nope.txt")


def test_corpus_is_byte_identical_to_shared(corpus_dir):
    shared = corpus_dir.parent.parent / "shared" / "corpus"
    if not shared.is_dir():
        pytest.skip("../shared/corpus not present")
    for path in shared.glob("*.txt"):
        assert (corpus_dir / path.name).read_bytes() == path.read_bytes(), path.name
