"""Reading Word files: documents built with python-docx at test time."""

from __future__ import annotations

import os

import docx
import pytest
from docx.oxml import OxmlElement

from extractor.errors import DocxError, EmptyDocumentError
from extractor.model import Page
from extractor.read.word import read_docx
from tests import fixtures_render as fr
from tests.conftest import CORPUS

FENGTAI = CORPUS / "fengtai-2021-2025-eco-plan.txt"


@pytest.fixture(scope="session")
def fengtai_docx(tmp_path_factory):
    """(rendering, SourceText) of the Fengtai five-year plan as a .docx."""
    blocks = fr.parse_blocks(FENGTAI.read_text(encoding="utf-8"), for_pdf=False)
    rendered = fr.render_docx(blocks, tmp_path_factory.mktemp("docx") / "fengtai.docx")
    return rendered, read_docx(rendered.path)


def test_lines_are_the_corpus_lines(fengtai_docx):
    """Paragraphs, headings, TOC entries and table rows come out as the .txt has them."""
    _, source = fengtai_docx
    assert source.format == "docx"
    corpus = [line.strip() for line in FENGTAI.read_text(encoding="utf-8").split("\n")]
    assert [line for line in source.text.split("\n") if line] == [line for line in corpus if line]
    assert "\n\n\n" not in source.text


def test_headings_are_on_their_own_line(fengtai_docx):
    rendered, source = fengtai_docx
    document = docx.Document(str(rendered.path))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert len(headings) > 50
    lines = set(source.text.split("\n"))
    assert all(h in lines for h in headings)


def test_tables_are_tab_separated_rows_with_merged_cells_empty(fengtai_docx):
    rendered, source = fengtai_docx
    lines = source.text.split("\n")
    header = "序号\t指标类别\t指标名称\t2020年现状值\t2025年规划值\t指标属性"
    start = lines.index(header)
    assert lines[start + 1] == "1\t低碳发展\t碳排放总量（万吨）\t/\t达到市级要求\t约束性"
    assert lines[start + 2] == "2\t\t单位地区生产总值二氧化碳排放降幅（%）\t/\t达到市级要求\t约束性"
    table = docx.Document(str(rendered.path)).tables[-1]
    assert table.cell(2, 1).text == "低碳发展"  # really merged: python-docx repeats the top cell


def test_pages_from_explicit_page_breaks(fengtai_docx):
    rendered, source = fengtai_docx
    assert len(source.pages) == rendered.n_pages > 5
    _, drawn_pages = rendered.stream()
    read_pages = [source.page_at(i) for i, ch in enumerate(source.text) if not ch.isspace()]
    assert read_pages == drawn_pages
    chapter2 = source.text.index("第二章 指导思想和目标\n")
    assert source.page_at(chapter2) == 3 and source.pages[2].start == chapter2


def _document_with(paragraphs: list[str]) -> docx.Document:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    return document


def test_no_page_breaks_means_no_pages(tmp_path):
    path = tmp_path / "plain.docx"
    _document_with(["一、总体要求", "到2025年，PM2.5浓度下降10%。"]).save(str(path))
    source = read_docx(path)
    assert source.text == "一、总体要求\n\n到2025年，PM2.5浓度下降10%。"
    assert source.pages == []


def test_rendered_page_breaks_win_over_explicit_ones(tmp_path):
    """Word marks where it broke pages; a hard break is then marked too and counts once."""
    document = _document_with(["第一页的文字。"])
    document.add_page_break()
    second = document.add_paragraph()
    run = second.add_run("第二页开始")
    run._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))
    long = document.add_paragraph()
    long.add_run("跨页段落前半，")
    tail = long.add_run("后半在第三页。")
    tail._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))
    path = tmp_path / "rendered.docx"
    document.save(str(path))
    source = read_docx(path)
    assert source.text == "第一页的文字。\n\n第二页开始\n\n跨页段落前半，后半在第三页。"
    assert source.pages == [Page(1, 0, 9), Page(2, 9, 23), Page(3, 23, len(source.text))]
    assert source.text[23:] == "后半在第三页。"


def test_page_break_before_and_section_breaks(tmp_path):
    document = _document_with(["甲。", "乙。"])
    document.paragraphs[1].paragraph_format.page_break_before = True
    document.add_section()  # a new-page section break after 乙
    document.add_paragraph("丙。")
    path = tmp_path / "sections.docx"
    document.save(str(path))
    source = read_docx(path)
    assert source.text == "甲。\n\n乙。\n\n丙。"
    assert [source.page_at(source.text.index(c)) for c in "甲乙丙"] == [1, 2, 3]


def test_soft_breaks_tabs_and_spanned_cells(tmp_path):
    document = _document_with(["第一行\n第二行"])
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "合并"
    table.cell(0, 2).text = "值"
    table.cell(1, 0).text = "a"
    cell = table.cell(1, 1)
    cell.text = "单元格"
    cell.add_paragraph("第二段")
    table.cell(1, 2).text = "3"
    path = tmp_path / "cells.docx"
    document.save(str(path))
    assert read_docx(path).text == "第一行\n第二行\n\n合并\t\t值\na\t单元格第二段\t3"


def test_a_vertically_merged_cell_is_read_once(tmp_path):
    """Word shows a merged cell's text once, in its first row; the rows below get ""."""
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "类别"
    table.cell(0, 1).text, table.cell(1, 1).text = "甲", "乙"
    hidden = table.rows[1]._tr.tc_lst[0].p_lst[0]
    hidden.append(_run("残留"))  # text left in a continuation cell is not displayed
    path = tmp_path / "vmerge.docx"
    document.save(str(path))
    assert read_docx(path).text == "类别\t甲\n\t乙"


def _run(text: str):
    run, t = OxmlElement("w:r"), OxmlElement("w:t")
    t.text = text
    run.append(t)
    return run


def test_a_table_of_contents_inside_a_content_control(tmp_path):
    """Word puts a generated TOC in a w:sdt block; its entries are read like paragraphs."""
    document = _document_with(["目录", "第一章 总则"])
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    entry = OxmlElement("w:p")
    entry.append(_run("第一章 总则"))
    entry.append(OxmlElement("w:r"))
    entry[-1].append(OxmlElement("w:tab"))
    entry.append(_run("1"))
    content.append(entry)
    sdt.append(content)
    document.paragraphs[0]._p.addnext(sdt)
    path = tmp_path / "toc.docx"
    document.save(str(path))
    assert read_docx(path).text == "目录\n\n第一章 总则\t1\n\n第一章 总则"


# -- broken files ---------------------------------------------------------------------------


def test_random_bytes(tmp_path):
    path = tmp_path / "random.docx"
    path.write_bytes(os.urandom(2048))
    with pytest.raises(DocxError, match=r"random.docx.*not a zip"):
        read_docx(path)


def test_a_zip_without_document_xml(tmp_path):
    path = fr.zip_without_document(tmp_path / "hollow.docx")
    with pytest.raises(DocxError, match=r"hollow.docx.*corrupt"):
        read_docx(path)


def test_a_truncated_docx(fengtai_docx, tmp_path):
    path = fr.truncate(fengtai_docx[0].path, tmp_path / "cut.docx")
    with pytest.raises(DocxError, match=r"cut.docx.*truncated or damaged .docx") as exc:
        read_docx(path)
    assert ".doc," not in str(exc.value)  # not mistaken for an old binary .doc


def test_an_old_binary_doc(tmp_path):
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))  # the OLE2 signature of Word 97-2003
    with pytest.raises(DocxError, match=r"old.docx.*old binary Word .doc"):
        read_docx(path)


def test_an_empty_docx(tmp_path):
    path = tmp_path / "empty.docx"
    document = _document_with(["", "  "])
    document.add_page_break()
    document.add_table(rows=2, cols=2)
    document.save(str(path))
    with pytest.raises(EmptyDocumentError, match=r"empty\.docx"):
        read_docx(path)
