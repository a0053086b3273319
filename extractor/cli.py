"""The ``policykb`` command line: click commands only; the logic lives in the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from extractor.errors import PolicyKBError

DEFAULT_CORPUS = "corpus"
DEFAULT_DB = "kb.db"


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PolicyKBError as exc:
            raise click.ClickException(str(exc)) from None


def corpus_option(help: str):
    """The --corpus option (a folder with catalog.yml and the documents)."""
    return click.option(
        "--corpus",
        "corpus_dir",
        default=DEFAULT_CORPUS,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=help,
    )


def db_option(help: str):
    """The --db option (the knowledge base file)."""
    return click.option(
        "--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(path_type=Path), help=help
    )


@click.group(cls=_Group)
@click.version_option(package_name="policy-kb")
def main() -> None:
    """policy-kb: campaigns, task clauses and quantitative targets of Chinese environmental
    plans, each cited to its source clause.

    \b
    Example:
      policykb build && policykb serve
    """


@main.command()
@corpus_option("Folder with catalog.yml and the documents.")
@db_option("The knowledge base to write (replaced atomically).")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes extracting documents [default: every core].",
)
@click.option(
    "--cache/--no-cache",
    default=True,
    show_default=True,
    help="Reuse the rows of unchanged documents from .policykb-cache/ beside the knowledge base.",
)
@click.option(
    "--doc-timeout",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Seconds one document may take; a slower one fails (E028) and the rest builds. 0: no limit.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Extract on this Dask cluster (tcp://HOST:8786) instead of local processes (extra: dask).",
)
def build(
    corpus_dir: Path, db_path: Path, jobs: int | None, cache: bool, doc_timeout: float, scheduler: str | None
) -> None:
    """Build the knowledge base from the corpus catalog.

    Documents are extracted in parallel and cached: a rebuild extracts only the documents
    that changed and updates a copy of kb.db in place (README "At scale"); the output says
    which path was taken and the time of each step.

    \b
    Example:
      policykb build --corpus corpus --db kb.db
      policykb build --jobs 4 --no-cache
    """
    from extractor.kb.cache import catalog_cache_path
    from extractor.kb.store import build_db
    from extractor.read.catalog import load_catalog

    entries = load_catalog(corpus_dir, parsed_cache=catalog_cache_path(db_path) if cache else None)
    options = {
        "jobs": jobs,
        "cache": cache,
        "doc_timeout": doc_timeout or None,
        "scheduler": scheduler,
        "entries": entries,  # loaded once (10,000 entries take seconds)
    }
    if len(entries) > 5:
        with click.progressbar(length=len(entries), label="Reading documents", file=sys.stderr) as bar:
            report = build_db(corpus_dir, db_path, on_document=lambda e: bar.update(1), **options)
    else:
        report = build_db(corpus_dir, db_path, **options)
    for doc in report.documents:
        labels = "、".join(label for _, label in doc.campaigns) or "-"
        click.echo(
            f"{doc.id}: {len(doc.campaigns)} campaigns ({labels}), {doc.clauses} clauses, {doc.targets} targets"
        )
    for path in report.unlisted:
        click.secho(f"warning: {path} is not in catalog.yml and was not built", fg="yellow", err=True)
    for err in report.errors:
        click.secho(f"error: {err}", fg="red", err=True)
    cached = len(report.documents) + len(report.errors) - report.extracted
    click.echo(
        f"wrote {db_path} ({len(report.documents)} documents, {len(report.errors)} failed;"
        f" {report.extracted} extracted, {cached} from the cache)"
    )
    changes = f"{report.changed} changed, {report.added} added, {report.removed} removed"
    if report.mode == "incremental":
        click.echo(f"updated in place: {changes}")
    else:
        click.echo(
            f"full write: {report.reason}" + (f" ({changes})" if report.reason.endswith("changed") else "")
        )
    click.echo("steps: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in report.steps.items()))
    if report.errors:
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "table"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one JSON object per target; table: a table for the terminal.",
)
def extract(file: Path, fmt: str) -> None:
    """Extract the targets of any .txt, .pdf or .docx file (no catalog needed).

    \b
    Example:
      policykb extract corpus/huairou-2024-action-plan-draft-explanation.txt --format table
    """
    from extractor.pipeline import process_file
    from extractor.report import format_table, target_records

    doc = process_file(file)
    records = target_records(doc)
    if fmt == "jsonl":
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo(format_table(records))


@main.command()
@click.argument("doc_a")
@click.argument("doc_b")
@db_option("The knowledge base to read.")
def diff(doc_a: str, doc_b: str, db_path: Path) -> None:
    """Plan-to-plan change: the targets of two documents of one district, aligned by indicator
    (tightened, loosened, unchanged, changed, new, dropped; B against A).

    \b
    Example:
      policykb diff fengtai-2021-2025-eco-plan fengtai-2024-action-plan-interpretation
    """
    from extractor.kb.plandiff import diff_documents, format_table
    from extractor.sqlite import sqlite3

    if not db_path.is_file():
        raise click.ClickException(f"{db_path}: no knowledge base here (run `policykb build`)")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        click.echo(format_table(diff_documents(conn, doc_a, doc_b)))
    finally:
        conn.close()


@main.command()
@click.argument("text", required=False)
def quantities(text: str | None) -> None:
    """Print every quantity found in TEXT (or standard input), one JSON object per line.

    \b
    Example:
      policykb quantities "降尘量控制在5吨/平方公里·月左右"
    """
    from extractor.quantities import find_quantities

    if text is None:
        text = sys.stdin.read()
    keys = ("value", "value_max", "unit", "canonical_unit", "surface", "start", "end")
    for q in find_quantities(text):
        row = q.to_json()
        click.echo(json.dumps({k: row[k] for k in keys}, ensure_ascii=False))


@main.command("similar-eval")
@click.option(
    "--gold",
    "gold_path",
    default="tests/diffusion_gold.jsonl",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Hand-checked clause pairs (JSON lines: a, b, same, reason).",
)
@db_option("The knowledge base whose clauses the gold names.")
def similar_eval(gold_path: Path, db_path: Path) -> None:
    """Precision and recall of the similar-measure methods (TF-IDF, MinHash) on gold pairs.

    \b
    Example:
      policykb similar-eval --gold tests/diffusion_gold.jsonl
    """
    from extractor.kb import similar
    from extractor.sqlite import sqlite3

    if not db_path.exists():
        raise click.ClickException(f"{db_path}: no such knowledge base (run `policykb build`)")
    gold = similar.load_gold(gold_path)
    conn = sqlite3.connect(db_path)
    try:
        scores = similar.evaluate_pairs(conn, gold)
        outside = similar.not_measure_pairs(conn, gold)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        conn.close()
    n_pos = sum(g["same"] for g in gold)
    click.echo(similar.format_scores(scores, n_pos, len(gold) - n_pos))
    if outside:
        n_same = sum(g["same"] for g in outside)
        click.echo(
            f"{len(outside)} gold pair(s) name a clause that is no measure clause, so never predicted"
            f" ({n_same} of them positive: counted as misses):"
        )
        for g in outside:
            click.echo(f"  {g['a']} ~ {g['b']} ({'same' if g['same'] else 'not same'})")


@main.command()
@click.option(
    "--gold",
    "gold_dir",
    default="tests/gold",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of gold annotations (*.jsonl, format in its SCHEMA.md); tests/gold is the copy of ../shared/gold.",
)
@click.option(
    "--corpus",
    "corpus_dir",
    default=DEFAULT_CORPUS,
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder with catalog.yml and the documents the gold annotates.",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="List the misses, the extras and every label disagreement (with the evidence of the kind).",
)
def evaluate(gold_dir: Path, corpus_dir: Path, verbose: bool) -> None:
    """Score the extractor against hand annotations (see tests/gold/SCHEMA.md).

    \b
    Example:
      policykb evaluate --gold tests/gold --verbose
      policykb evaluate --gold ../shared/realtexts/gold --corpus ../shared/realtexts/docs
    """
    from extractor.evaluate import evaluate as run

    click.echo(run(gold_dir, corpus_dir).format(verbose=verbose))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@corpus_option("Folder with catalog.yml and the documents kb.db is built from.")
@db_option("The knowledge base to serve (rebuilt first when a corpus catalog is here and it is stale).")
@click.option(
    "--metadata",
    "metadata_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The site's metadata.yml (title, description, licence). Default: ./metadata.yml if present.",
)
@click.option(
    "--locked",
    is_flag=True,
    help="No arbitrary SQL and no download of the database file (default_allow_sql off, allow_download off).",
)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    nargs=2,
    metavar="NAME VALUE",
    help="A Datasette setting, passed through (repeatable): --setting sql_time_limit_ms 1000.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Server processes over the one read-only kb.db (each uses about one core; a dead one is replaced).",
)
def serve(
    host: str,
    port: int,
    corpus_dir: Path,
    db_path: Path,
    metadata_path: Path | None,
    locked: bool,
    settings: tuple[tuple[str, str], ...],
    workers: int,
) -> None:
    """Build kb.db if it is missing or stale, then serve it with Datasette.

    Without a corpus catalog (CORPUS/catalog.yml) the given kb.db is served as it is.

    \b
    Example:
      policykb serve --port 8001   # then open http://127.0.0.1:8001/
      policykb serve --db /path/to/kb.db   # from any folder
      policykb serve --locked   # a public site: no arbitrary SQL, no kb.db download
      policykb serve --setting default_allow_sql off --setting allow_download off
      policykb serve --workers 4 --host 0.0.0.0   # four processes (README "At scale")
    """
    from extractor.web.serve import LOCKED_SETTINGS, parse_settings
    from extractor.web.serve import serve as run

    chosen = {**(LOCKED_SETTINGS if locked else {}), **parse_settings(settings)}
    run(
        db_path,
        corpus_dir,
        host,
        port,
        metadata_path=metadata_path,
        settings=chosen,
        workers=workers,
        echo=click.echo,
    )


@main.command()
@click.argument("district")
@click.argument("indicator")
@db_option("The knowledge base to read.")
def trajectory(district: str, indicator: str, db_path: Path) -> None:
    """Print a district's actuals and targets of one indicator over the years, each target's
    ambition (the change it asks from the latest earlier actual) and attainment (met or missed
    by a later actual), with the citation of each value.

    \b
    Example:
      policykb trajectory 怀柔区 pm25_annual_mean
    """
    from extractor.kb.trajectories import line
    from extractor.sqlite import sqlite3

    if not db_path.exists():
        raise click.ClickException(f"{db_path}: no such knowledge base (run policykb build)")
    conn = sqlite3.connect(db_path)
    try:
        rows = line(conn, district, indicator)
    except sqlite3.OperationalError as exc:
        raise click.ClickException(f"{db_path}: no trajectories table ({exc}); rebuild it") from None
    if not rows:
        raise click.ClickException(f"no actual or target of {indicator!r} for {district!r} in {db_path}")
    for r in rows:
        kind = "现状 actual" if r["kind"] == "actual" else "目标 target"
        notes = "；".join(x for x in (r["ambition_display"], r["attainment_display"]) if x)
        click.echo(f"{r['year']}  {kind}  {r['display']}" + (f"  {notes}" if notes else ""))
        click.echo(f"      {r['citation']}")


@main.command()
@click.argument("district")
@db_option("The kb.db to read.")
def units(district: str, db_path: Path) -> None:
    """Print who does what by when in a district's plans: each responsible unit (normalized) with
    the tasks it leads and supports per campaign, then every task with its units and deadline.

    \b
    Example:
      policykb units 东湖区 --db /tmp/duties.db
    """
    from extractor.sqlite import sqlite3
    from extractor.web.duties import units_context

    if not db_path.exists():
        raise click.ClickException(f"{db_path}: no such knowledge base (run policykb build)")
    conn = sqlite3.connect(db_path)
    try:
        context = units_context(conn, district)
    except sqlite3.OperationalError as exc:
        raise click.ClickException(f"{db_path}: no responsibilities table ({exc}); rebuild it") from None
    if context is None:
        raise click.ClickException(f"unknown district {district!r} in {db_path}")
    if not context["matrix"]:
        click.echo(f"{district}: no task in its plans names a responsible unit")
        return
    names = {c["id"]: c["name_zh"] for c in context["campaigns"]}
    click.echo(f"{district}: {context['n_tasks']} tasks name their units")
    for row in context["matrix"]:
        cells = "  ".join(
            f"{names[c['campaign']]} 牵头{c['lead']}/配合{c['partner']}"
            for c in row["cells"]
            if c["lead"] or c["partner"]
        )
        click.echo(f"  {row['unit']}: {cells}")
    for group in context["task_groups"]:
        click.echo(f"- {group['text'][:60]}")
        roles = "；".join(f"{label} " + "、".join(group[role]) for role, label in ROLE.items() if group[role])
        deadline = group["deadline_text"] or ""
        click.echo(f"    {roles}" + (f"  · 完成时限 {deadline}" if deadline else ""))


ROLE = {"lead": "牵头", "partner": "配合"}


if __name__ == "__main__":  # pragma: no cover
    main()
