"""Reading PDFs: government layout rendered with reportlab at test time, read back with pdfplumber.

The rendering records the page every body line and table cell was drawn on, so the tests can
check the reader against the layout rather than against itself. The end-to-end tests at the
bottom run the Fengtai plan as .txt, .pdf and .docx through the pipeline and compare targets,
clauses and pages.
"""

from __future__ import annotations

from collections import Counter

import pytest
import regex

from extractor.errors import EmptyDocumentError, PdfError
from extractor.read.pdf import PAGE_NUMBER, _is_toc, read_pdf
from tests import fixtures_render as fr
from tests.conftest import CORPUS

FENGTAI = CORPUS / "fengtai-2021-2025-eco-plan.txt"
TITLE = "丰台区“十四五”时期生态环境保护规划"


def squash(text: str) -> str:
    return regex.sub(r"\s+", "", text)


@pytest.fixture(scope="session")
def fengtai_pdf(tmp_path_factory):
    """(rendering, SourceText) of the Fengtai five-year plan as a government-style PDF."""
    text = FENGTAI.read_text(encoding="utf-8")
    rendered = fr.render_text_pdf(text, tmp_path_factory.mktemp("pdf") / "fengtai.pdf", TITLE)
    return rendered, read_pdf(rendered.path)


@pytest.fixture(scope="session")
def fengtai_blocks():
    return fr.parse_blocks(FENGTAI.read_text(encoding="utf-8"))


def test_text_is_exactly_the_drawn_body_text(fengtai_pdf):
    """Nothing lost, nothing doubled, no running header and no page numbers."""
    rendered, source = fengtai_pdf
    assert source.format == "pdf"
    assert rendered.n_pages > 30
    drawn, _ = rendered.stream()
    assert squash(source.text) == drawn


def test_no_running_header_or_page_number_lines(fengtai_pdf):
    _rendered, source = fengtai_pdf
    corpus = FENGTAI.read_text(encoding="utf-8")
    assert source.text.count(TITLE) == corpus.count(TITLE)  # body mentions only
    lines = source.text.split("\n")
    assert not [line for line in lines if PAGE_NUMBER.match(line)]
    assert not [line for line in lines if regex.fullmatch(r"\s*-\s*\d+\s*-\s*", line)]


def test_wrapped_lines_are_joined_and_paragraphs_kept(fengtai_pdf, fengtai_blocks):
    """Every source paragraph is one line of the output, even across page breaks."""
    rendered, source = fengtai_pdf
    lines = {squash(line) for line in source.text.split("\n")}
    paragraphs = [b.text for b in fengtai_blocks if b.kind in ("para", "centre")]
    missing = [p[:40] for p in paragraphs if squash(p.replace("・", "·")) not in lines]
    assert missing == []
    # the rendering really wraps lines and breaks paragraphs over pages
    assert sum(len(fr.paragraph_lines(b)) > 1 for b in fengtai_blocks) > 100
    spanning = [p for p in paragraphs if len(_pages_of(rendered, p)) > 1]
    assert len(spanning) >= 10
    assert "\n\n" in source.text and "\n\n\n" not in source.text


def _pages_of(rendered: fr.Rendered, paragraph: str) -> set[int]:
    """Pages on which the lines of ``paragraph`` were drawn."""
    target = squash(paragraph)
    pages: set[int] = set()
    for page, line in rendered.lines:
        if squash(line) and squash(line) in target:
            pages.add(page)
    return pages


def test_every_character_is_on_the_page_it_was_drawn_on(fengtai_pdf):
    rendered, source = fengtai_pdf
    _, drawn_pages = rendered.stream()
    read_pages = [source.page_at(i) for i, ch in enumerate(source.text) if not ch.isspace()]
    wrong = [(i, a, b) for i, (a, b) in enumerate(zip(read_pages, drawn_pages)) if a != b]
    assert wrong == []
    assert [p.number for p in source.pages] == list(range(1, rendered.n_pages + 1))
    assert source.pages[0].start == 0 and source.pages[-1].end == len(source.text)
    assert all(a.end == b.start for a, b in zip(source.pages, source.pages[1:]))


def test_a_known_sentence_is_reported_on_its_page(fengtai_pdf):
    rendered, source = fengtai_pdf
    sentence = "到 2025 年，全区污水处理率达到 99.7%。"
    drawn, drawn_pages = rendered.stream()
    page = drawn_pages[drawn.index(squash(sentence))]
    at = squash(source.text).index(squash(sentence))
    offset = [i for i, ch in enumerate(source.text) if not ch.isspace()][at]
    assert page > 10
    assert source.page_at(offset) == page


def test_tables_are_tab_separated_rows(fengtai_pdf):
    _, source = fengtai_pdf
    lines = source.text.split("\n")
    header = "序号\t指标类别\t指标名称\t2020年现状值\t2025年规划值\t指标属性"
    start = lines.index(header)
    corpus = FENGTAI.read_text(encoding="utf-8").split("\n")
    expected = corpus[corpus.index(header) : corpus.index(header) + 17]
    assert lines[start : start + 17] == expected
    assert lines[start + 17] == ""  # the table ends its block
    assert "1\t低碳发展\t碳排放总量（万吨）\t/\t达到市级要求\t约束性" in lines
    assert "2\t\t单位地区生产总值二氧化碳排放降幅（%）\t/\t达到市级要求\t约束性" in lines  # merged cell
    # table 1 runs over a page break: its rows go on, then its second part opens a new table
    first = lines.index("序號\t指標類別\t指標名稱\t2020 年目標\t2020 年現狀")
    assert [row.split("\t")[0] for row in lines[first + 1 : first + 13]] == [str(n) for n in range(1, 13)]
    assert lines[first + 13] == "" and lines[first + 14].startswith("序号\t指标类别")


def test_table_words_stay_out_of_the_running_text(fengtai_pdf):
    """Words inside a table are read once, as cells, never as running text too."""
    _, source = fengtai_pdf
    corpus = FENGTAI.read_text(encoding="utf-8")
    for word in ("碳排放总量（万吨）", "约束性", "指标属性", "氨氮減排量（噸）"):
        assert source.text.count(word) == corpus.count(word)
        assert all("\t" in line for line in source.text.split("\n") if word in line)


def test_toc_lines_are_one_per_line(fengtai_pdf, fengtai_blocks):
    _, source = fengtai_pdf
    toc = [b for b in fengtai_blocks if b.kind == "toc"]
    lines = source.text.split("\n")
    toc_lines = [line for line in lines if regex.search(r"\.{3,}\s*-?\s*\d+\s*-$", line)]
    assert len(toc_lines) == len(toc) > 70
    assert toc_lines[1].startswith("第一章 生态环境保护跃上新台阶...") and toc_lines[1].endswith(" - 2 -")


def test_a_table_over_several_pages_continues_its_rows(tmp_path):
    """A 70-row table with its header repeated on each page reads as one header and 70 rows."""
    header = ["序号", "指标名称", "2025年目标值（%）", "指标属性"]
    rows = [[str(n), f"第{n}项指标的达标率", f"{90 + n % 10}", "约束性"] for n in range(1, 71)]
    blocks = [
        fr.Block("para", "下表列出各项指标。" * 3),
        fr.Block("table", rows=[header, *rows]),
        fr.Block("para", "以上指标均须按期完成。"),
    ]
    rendered = fr.render_pdf(blocks, tmp_path / "long.pdf", "测试", repeat_rows=1)
    source = read_pdf(rendered.path)
    assert rendered.n_pages >= 2
    tables = [b for b in source.text.split("\n\n") if "\t" in b]
    assert len(tables) == 1
    assert tables[0].split("\n") == ["\t".join(r) for r in [header, *rows]]
    table_pages = {source.page_at(source.text.index("\n70\t"))}
    assert table_pages == {rendered.n_pages}


def test_paragraph_breaks_without_indent_or_punctuation(tmp_path):
    """Flush-left text: a heading after a full line, a paragraph after a short line."""
    per_line = int(fr.WIDTH // fr.SIZE)
    full = ("加快推进生态环境治理体系和治理能力现代化建设" * 4)[: 2 * per_line]  # two full lines
    assert sum(len(line) for line in fr.break_lines(full, fr.WIDTH, fr.WIDTH)) == len(full)
    assert fr.width_of(fr.break_lines(full, fr.WIDTH, fr.WIDTH)[-1]) > fr.WIDTH - fr.SIZE
    texts = [full, "（一）强化组织领导", full + "以及其他相关工作", "第二章 保障措施", full]
    blocks = [fr.Block("para", text, indent=0) for text in texts]
    source = read_pdf(fr.render_pdf(blocks, tmp_path / "flush.pdf", "测试").path)
    assert source.text.split("\n\n") == texts


@pytest.mark.parametrize(
    "line,expected",
    [
        ("- 12 -", True),
        ("— 12 —", True),
        ("－3－", True),
        ("第 3 页", True),
        ("第3页 共10页", True),
        ("12", True),
        ("3/10", True),
        ("Page 4 of 9", True),
        ("到2025年", False),
        ("- 12 - 附件", False),
        ("12.5%", False),
        ("2013-2019", False),
    ],
)
def test_page_number_lines(line, expected):
    assert bool(PAGE_NUMBER.match(line)) is expected


@pytest.mark.parametrize(
    "line,expected",
    [
        ("第一章 总则......12", True),
        ("三、总体目标 12 -", True),
        ("序言\t- 1 -", True),
        ("（一）生态文明建设全面推进……………… - 2 -", True),
        ("全区用水总量控制在 3", False),
        ("完成 2013-2019", False),
        ("- 2 -", False),
    ],
)
def test_toc_lines(line, expected):
    assert _is_toc(line) is expected


# -- broken files ---------------------------------------------------------------------------


def test_a_scan_without_text_layer(tmp_path):
    path = fr.render_scan_pdf(tmp_path / "scan.pdf")
    with pytest.raises(PdfError, match=r"scan.pdf.*no text layer \(scanned"):
        read_pdf(path)


def test_an_encrypted_pdf(tmp_path):
    path = fr.render_simple_pdf(tmp_path / "secret.pdf", [["加密文件"]], encrypt="pw")
    with pytest.raises(PdfError, match=r"secret.pdf.*encrypted"):
        read_pdf(path)


def test_a_truncated_pdf(fengtai_pdf, tmp_path):
    path = fr.truncate(fengtai_pdf[0].path, tmp_path / "half.pdf")
    with pytest.raises(PdfError, match=r"half.pdf.*truncated or corrupt PDF: \w+"):
        read_pdf(path)


def test_bytes_that_are_no_pdf(tmp_path):
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)
    with pytest.raises(PdfError, match=r"junk.pdf.*corrupt"):
        read_pdf(path)


@pytest.mark.parametrize(
    "pages",
    [[[]], [[], []], [["- 1 -"], ["- 2 -"]]],
    ids=["one-blank-page", "two-blank-pages", "page-numbers-only"],
)
def test_an_empty_pdf(tmp_path, pages):
    path = fr.render_simple_pdf(tmp_path / "empty.pdf", pages)
    with pytest.raises(EmptyDocumentError, match=r"empty\.pdf"):
        read_pdf(path)


def test_a_short_plain_pdf_reads(tmp_path):
    path = fr.render_simple_pdf(tmp_path / "short.pdf", [["第一章 总则", "到2025年，PM2.5浓度下降10%。"]])
    source = read_pdf(path)
    assert source.text == "第一章 总则\n\n到2025年，PM2.5浓度下降10%。"
    assert source.pages == [fr_page(1, 0, len(source.text))]


def test_a_large_title_over_two_centred_lines_is_one_paragraph(tmp_path):
    title = "北京市丰台区人民政府关于印发《丰台区“十四五”时期生态环境保护规划》的通知"
    blocks = [
        fr.Block("centre", title, size=22.0),
        fr.Block("centre", "丰政发〔2022〕2号"),
        fr.Block("centre", "北京市丰台区人民政府"),
        fr.Block("centre", "2022年1月24日"),
        fr.Block("para", "现将规划印发给你们，请认真贯彻执行。" * 6),
    ]
    rendered = fr.render_pdf(blocks, tmp_path / "title.pdf", "测试")
    assert rendered.lines[0][1] + rendered.lines[1][1] == title  # drawn on two lines
    assert read_pdf(rendered.path).text.split("\n\n") == [b.text for b in blocks]


def test_fake_bold_text_is_read_once(tmp_path):
    path = fr.render_simple_pdf(tmp_path / "bold.pdf", [["一、总体要求"]], overprint=0.4)
    assert read_pdf(path).text == "一、总体要求"


def fr_page(number: int, start: int, end: int):
    from extractor.model import Page

    return Page(number, start, end)


# -- end to end: the same plan as .txt, .pdf and .docx ------------------------------------

NAME = "fengtai-2021-2025-eco-plan"


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """{format: (ProcessedDocument, Rendered | None)} for txt, pdf and docx."""
    pytest.importorskip("extractor.statements.assemble")
    from extractor.pipeline import process_file

    text = (CORPUS / f"{NAME}.txt").read_text(encoding="utf-8")
    folder = tmp_path_factory.mktemp("e2e")
    pdf = fr.render_text_pdf(text, folder / f"{NAME}.pdf", TITLE)
    word = fr.render_docx(fr.parse_blocks(text, for_pdf=False), folder / f"{NAME}.docx")
    return {
        "txt": (process_file(CORPUS / f"{NAME}.txt"), None),
        "pdf": (process_file(pdf.path), pdf),
        "docx": (process_file(word.path), word),
    }


def _key(target) -> tuple:
    value = round(target.value, 6) if target.value is not None else target.value_text  # 达到市级要求
    return (value, target.canonical_unit, target.kind, target.indicator_id)


def _differences(a: list, b: list, key) -> tuple[list, list]:
    ca, cb = Counter(map(key, a)), Counter(map(key, b))
    return sorted((ca - cb).elements(), key=str), sorted((cb - ca).elements(), key=str)


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_same_targets_as_the_text_version(versions, fmt):
    txt, other = versions["txt"][0].targets, versions[fmt][0].targets
    assert len(txt) > 20
    assert _differences(txt, other, _key) == ([], [])


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_same_comparators_years_and_attributes(versions, fmt):
    def key(t):
        return (*_key(t), t.comparator, t.year, t.attribute)

    assert _differences(versions["txt"][0].targets, versions[fmt][0].targets, key) == ([], [])


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_same_clauses(versions, fmt):
    def key(c):
        return (c.kind, c.ordinal, "".join(c.text.split()).replace("·", "・"))

    txt, other = versions["txt"][0].clauses, versions[fmt][0].clauses
    only_txt, only_other = _differences(txt, other, key)
    # the PDF font has no subscript digits: the fixture writes PM10/SO2 for PM₁₀/SO₂
    assert len(only_txt) == len(only_other) <= (1 if fmt == "pdf" else 0)


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_targets_and_clauses_are_on_the_page_they_were_drawn_on(versions, fmt):
    processed, rendered = versions[fmt]
    text = processed.source.text
    _, drawn_pages = rendered.stream()
    index = {}  # offset of each non-space character -> its position in the drawn stream
    for i, ch in enumerate(text):
        if not ch.isspace():
            index[i] = len(index)

    def drawn_page(start: int) -> int:
        while start not in index:
            start += 1
        return drawn_pages[index[start]]

    assert processed.targets and all(t.page is not None for t in processed.targets)
    wrong = [
        (t.surface, t.page, drawn_page(t.start)) for t in processed.targets if t.page != drawn_page(t.start)
    ]
    assert wrong == []
    assert len({t.page for t in processed.targets}) > (10 if fmt == "pdf" else 3)
    wrong = [(c.text[:20], c.page) for c in processed.clauses if c.page != drawn_page(c.start)]
    assert wrong == []


def test_document_rows_count_pages(versions):
    assert versions["pdf"][0].document["n_pages"] == versions["pdf"][1].n_pages
    assert versions["pdf"][0].document["format"] == "pdf"
    assert versions["docx"][0].document["format"] == "docx"
    assert versions["txt"][0].document["n_pages"] is None


# -- line breaking of other layout engines (LibreOffice, Word): unit cases -----------------------


def _line(text, x1, top=100.0, x0=90.0, page=0):
    from extractor.read.pdf import Line

    return Line(page=page, text=text, x0=x0, x1=x1, top=top, bottom=top + 10.5, size=10.5, page_height=842.0)


@pytest.mark.parametrize(
    "prev,nxt,shortfall_chars,continues",
    [
        (
            "全区细颗粒物、可吸入颗粒物",
            "（PM10）、二氧化硫年均浓度分别为",
            1.8,
            True,
        ),  # 「（」 may not end a line
        ("较2015年分别下降", "58.6%、47.2%、79.0%、43.7%，其中", 9.0, True),  # a digit run is not split
        ("持续改善空气质量。", "全面加强扬尘治理", 1.8, False),  # a sentence ended
        ("（二）生态环境质量全面改善", "空气质量大幅改善", 20.0, False),  # a heading line
    ],
)
def test_early_line_breaks_do_not_end_paragraphs(prev, nxt, shortfall_chars, continues):
    from extractor.read.pdf import Layout, _starts_paragraph

    layout = Layout(left={0: 90.0, 1: 90.0}, right={0: 520.0, 1: 520.0}, char=10.5, pitch=18.0)
    a = _line(prev, 520.0 - shortfall_chars * 10.5)
    b = _line(nxt, 520.0, top=118.0)
    assert _starts_paragraph(a, b, layout) is (not continues)


def test_a_table_row_cut_by_a_page_break_is_joined():
    from extractor.read.pdf import Block, Table, _add_table

    header = ["序号", "指标类别", "指标名称", "2020年目标", "2020年现状"]
    first = Table(
        page=3, top=600.0, bottom=780.0, rows=[header, ["5", "", "二氧化氮浓度年均值（微", "29", "29"]]
    )
    rest = Table(
        page=4,
        top=80.0,
        bottom=200.0,
        rows=[["", "", "克/立方米）", "", ""], ["6", "", "区域环境噪声平均值（分贝）", "≤55", "52.8"]],
    )
    blocks: list[Block] = []
    _add_table(blocks, None, first)
    _add_table(blocks, first, rest)
    assert [text for _, text in blocks[0].segments][1:] == [
        "5\t\t二氧化氮浓度年均值（微克/立方米）\t29\t29",
        "6\t\t区域环境噪声平均值（分贝）\t≤55\t52.8",
    ]
