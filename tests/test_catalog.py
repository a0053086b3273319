"""Catalog validation: each mistake names the entry and what is wrong."""

from __future__ import annotations

import shutil

import pytest
import yaml

from extractor.errors import CatalogError
from extractor.read.catalog import load_catalog


def test_repository_catalog_is_valid(corpus_dir):
    entries = load_catalog(corpus_dir)
    assert len(entries) == 5
    five_year = next(e for e in entries if e.id == "fengtai-2021-2025-eco-plan")
    assert (five_year.year, five_year.year_end, five_year.doc_number) == (2021, 2025, "丰政发〔2022〕2号")
    assert {e.district_slug for e in entries} == {"fengtai", "huairou", "mentougou", "chaoyang"}


@pytest.fixture
def corpus_copy(tmp_path, corpus_dir):
    shutil.copy(corpus_dir / "catalog.yml", tmp_path / "catalog.yml")
    for path in corpus_dir.glob("*.txt"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(corpus, change):
    data = yaml.safe_load((corpus / "catalog.yml").read_text(encoding="utf-8"))
    change(data["documents"])
    (corpus / "catalog.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d[0].update(file="missing.txt"), "file 'missing.txt' does not exist"),
        (lambda d: d[1].update(id=d[0]["id"]), "duplicate id"),
        (lambda d: d[0].update(distrct="朝阳区"), "unknown field(s) distrct"),
        (lambda d: d[0].pop("district"), "missing required field(s): district"),
        (lambda d: d[0].update(year="twenty"), "is not a year"),
        (lambda d: d[0].update(genre="通知"), "genre '通知' is not one of"),
        (lambda d: d[0].update(published="2024-13-01"), "is not a date"),
        (lambda d: d[0].update(id="Chao Yang"), "is not a slug"),
    ],
    ids=[
        "missing-file",
        "duplicate-id",
        "unknown-field",
        "missing-district",
        "bad-year",
        "bad-genre",
        "bad-date",
        "bad-slug",
    ],
)
def test_catalog_mistakes(corpus_copy, change, message):
    edit(corpus_copy, change)
    with pytest.raises(CatalogError) as info:
        load_catalog(corpus_copy)
    text = str(info.value)
    assert message in text and "catalog.yml" in text and "entry " in text


def test_catalog_that_is_not_yaml(corpus_copy):
    (corpus_copy / "catalog.yml").write_text("documents: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(corpus_copy)


def test_empty_catalog_is_an_error(corpus_copy):
    (corpus_copy / "catalog.yml").write_text("documents: []\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="lists no documents"):
        load_catalog(corpus_copy)


@pytest.mark.parametrize("where", ["../outside.txt", "ABSOLUTE", "link.txt"])
def test_a_file_outside_the_corpus_is_refused(corpus_copy, tmp_path_factory, where):
    outside = tmp_path_factory.mktemp("outside") / "notes.txt"
    outside.write_text("不应发布的文件。", encoding="utf-8")
    if where == "ABSOLUTE":
        where = str(outside)
    elif where == "link.txt":
        (corpus_copy / "link.txt").symlink_to(outside)
    else:
        (corpus_copy.parent / "outside.txt").write_text("不应发布的文件。", encoding="utf-8")
    edit(corpus_copy, lambda d: d[0].update(file=where))
    with pytest.raises(CatalogError, match="is outside the corpus directory") as info:
        load_catalog(corpus_copy)
    assert "catalog.yml" in str(info.value) and "entry 1" in str(info.value)


def test_one_file_named_twice_is_a_duplicate(corpus_copy):
    edit(corpus_copy, lambda d: d[1].update(file="./" + d[0]["file"]))
    with pytest.raises(CatalogError, match="duplicate file"):
        load_catalog(corpus_copy)


def test_an_impossible_date_is_an_error_not_a_traceback(corpus_copy):
    data = yaml.safe_load((corpus_copy / "catalog.yml").read_text(encoding="utf-8"))
    data["documents"][0]["published"] = "PLACEHOLDER"
    dumped = (
        yaml.safe_dump(data, allow_unicode=True)
        .replace("'PLACEHOLDER'", "2024-02-30")
        .replace("PLACEHOLDER", "2024-02-30")
    )
    (corpus_copy / "catalog.yml").write_text(dumped, encoding="utf-8")
    with pytest.raises(CatalogError, match="not a valid date"):
        load_catalog(corpus_copy)


def test_the_parsed_catalog_is_kept_while_its_bytes_are_unchanged(corpus_copy, tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "kb.db.catalog.json"
    edit(corpus_copy, lambda d: d[0].update(published="2024-02-20"))
    first = load_catalog(corpus_copy, parsed_cache=cache)
    assert cache.is_file() and first == load_catalog(corpus_copy)  # the same entries as without it

    def no_yaml(*args, **kwargs):
        raise AssertionError("the YAML was parsed again")

    monkeypatch.setattr(yaml, "load", no_yaml)
    again = load_catalog(corpus_copy, parsed_cache=cache)
    assert again == first  # dates included (JSON has none: they are kept tagged)
    assert "2024-02-20" in {e.published for e in again}
    monkeypatch.undo()

    # a changed catalog is parsed again; the cache then holds the new parse
    edit(corpus_copy, lambda d: d[0].update(title="改过的标题"))
    changed = load_catalog(corpus_copy, parsed_cache=cache)
    assert "改过的标题" in {e.title for e in changed}
    # validated every time: a file that went missing is an error, cache or not
    (corpus_copy / changed[0].file).unlink()
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(corpus_copy, parsed_cache=cache)


@pytest.mark.parametrize("damage", ["not json", '{"key": 1}', '{"key": "x", "data": []}', ""])
def test_a_damaged_parsed_catalog_is_parsed_again(corpus_copy, tmp_path, damage):
    cache = tmp_path / "kb.db.catalog.json"
    cache.write_text(damage, encoding="utf-8")
    assert load_catalog(corpus_copy, parsed_cache=cache) == load_catalog(corpus_copy)
    assert '"key"' in cache.read_text(encoding="utf-8")  # replaced by a good one


def test_a_parse_json_cannot_give_back_is_not_kept(corpus_copy, tmp_path):
    # a number as a mapping key would come back from JSON as a string: nothing is kept, and
    # the catalog's own error is the same as without the cache
    text = (corpus_copy / "catalog.yml").read_text(encoding="utf-8")
    (corpus_copy / "catalog.yml").write_text(text + "2024: x\n", encoding="utf-8")
    cache = tmp_path / "kb.db.catalog.json"
    with pytest.raises(CatalogError) as without:
        load_catalog(corpus_copy)
    with pytest.raises(CatalogError) as with_cache:
        load_catalog(corpus_copy, parsed_cache=cache)
    assert str(with_cache.value) == str(without.value)
    assert not cache.exists()


def test_the_resolver_gives_what_resolve_gives(tmp_path):
    """Catalog paths are resolved folder by folder (a file in a resolved folder is that folder
    and its name unless the file is a link): every kind of path comes out as Path.resolve()."""
    from extractor.read.catalog import _Resolver

    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    (corpus / "sub").mkdir(parents=True)
    outside.mkdir()
    (corpus / "a.txt").write_text("x", encoding="utf-8")
    (corpus / "sub" / "b.txt").write_text("x", encoding="utf-8")
    (outside / "c.txt").write_text("x", encoding="utf-8")
    (corpus / "in-link.txt").symlink_to(corpus / "sub" / "b.txt")
    (corpus / "out-link.txt").symlink_to(outside / "c.txt")
    (corpus / "dir-link").symlink_to(outside, target_is_directory=True)
    (corpus / "relative-link.txt").symlink_to("sub/../a.txt")
    (tmp_path / "corpus-link").symlink_to(corpus, target_is_directory=True)
    names = [
        "a.txt", "sub/b.txt", "in-link.txt", "out-link.txt", "dir-link/c.txt", "relative-link.txt",
        "sub/../a.txt", "./a.txt", "../outside/c.txt", "missing.txt", "sub/missing/deeper.txt",
        "dir-link/missing.txt", "sub/..", "sub",
    ]  # fmt: skip
    for folder in (corpus, tmp_path / "corpus-link", tmp_path / "corpus-link" / "sub" / ".."):
        resolve = _Resolver()
        for name in names * 2:  # (the second time from the resolved folders)
            assert resolve(folder / name) == (folder / name).resolve(), (folder, name)
