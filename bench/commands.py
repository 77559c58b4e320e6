"""``citybridge bench …``: measurements kept apart from the tests."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.baseline import BaselineAssistant
from bench.metrics import percentile
from bench.retrieval import Score, benchmark_datasets, evaluate
from bot.render import RichProgress
from bot.services import Services
from bot.settings import Settings

DEFAULT_SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
QUESTIONS = Path(__file__).resolve().parent / "data" / "questions.jsonl"
SharedOption = Annotated[Path, typer.Option("--shared", help="The shared folder with corpus/ and benchmarks/.")]


def register(app: typer.Typer, settings: Callable[[], Settings], console: Console) -> None:
    """Attach the bench commands to ``app``; ``settings`` gives the settings after --home is parsed."""

    @app.command("retrieval")
    def retrieval(shared: SharedOption = DEFAULT_SHARED) -> None:
        """nDCG@10 and Recall@10 of BM25, dense and hybrid rankings on the shared benchmarks."""
        table = Table(title="Retrieval benchmarks (same index, same model, same run)")
        for column in ("Dataset", "Method", "nDCG@10", "Recall@10", "Queries"):
            table.add_column(column, justify="right" if column[0] in "nRQ" else "left")
        scores: list[Score] = []
        for dataset in benchmark_datasets(shared):
            with tempfile.TemporaryDirectory(prefix="citybridge-bench-") as home:
                services = Services(settings().with_home(Path(home)))
                scores += evaluate(
                    dataset,
                    services.index,
                    services.embedder,
                    progress=RichProgress(console),
                    on_score=lambda s: console.print(f"{s.dataset} · {s.method}: nDCG@10 {s.ndcg10:.4f}"),
                )
                services.close()
        for s in scores:
            table.add_row(s.dataset, s.method, f"{s.ndcg10:.4f}", f"{s.recall10:.4f}", str(s.queries))
        console.print(table)
        _save("retrieval", [s.__dict__ for s in scores])

    @app.command("summarization")
    def summarization(shared: SharedOption = DEFAULT_SHARED) -> None:
        """ROUGE-1/2/L F1 and reading grade: grounded summarizer vs Lead-K, TextRank, LexRank."""
        from bench.summarization import SENTENCE_BUDGET, evaluate  # noqa: PLC0415

        services = Services(settings())
        scores, original, reference = evaluate(shared / "benchmarks" / "legal_summarization", services.embedder)
        table = Table(title=f"legal_summarization ({scores[0].items} snippets, {SENTENCE_BUDGET} sentence each)")
        for column in ("Method", "ROUGE-1", "ROUGE-2", "ROUGE-L", "FK grade"):
            table.add_column(column, justify="left" if column == "Method" else "right")
        for s in scores:
            table.add_row(s.method, f"{s.rouge1:.4f}", f"{s.rouge2:.4f}", f"{s.rougeL:.4f}", f"{s.grade:.2f}")
        table.add_row("[dim]original texts[/dim]", "", "", "", f"{original:.2f}")
        table.add_row("[dim]human references[/dim]", "", "", "", f"{reference:.2f}")
        console.print(table)
        _save(
            "summarization",
            {"scores": [s.__dict__ for s in scores], "original_grade": original, "reference_grade": reference},
        )

    @app.command("translate")
    def translate(
        use_home: Annotated[
            bool,
            typer.Option("--use-home", help="Use the index in --home (e.g. the full corpus), not the sample library."),
        ] = False,
        split: Annotated[
            str, typer.Option("--split", help="Held-out half: dev, dev2 (the blind set), test, or all.")
        ] = "all",
    ) -> None:
        """The held-out set (bench/data/translate: dev, blind dev2 and test halves) and the old fixtures side
        by side: jargon explained, considerations raised with quotes, figures kept, grades, clause mappings."""
        from bench.translation import score_all, score_held_out_all  # noqa: PLC0415

        with tempfile.TemporaryDirectory(prefix="citybridge-bench-") as home:
            services = Services(settings() if use_home else settings().with_home(Path(home)))
            services.ensure_library(RichProgress(console))
            held_out = score_held_out_all(services.skills, services.glossary, None if split == "all" else split)
            scores = score_all(services.skills, services.glossary)
            services.close()
        _held_out_table(console, held_out)
        _save(f"translate-held-out-{split}", [s.__dict__ for s in held_out])
        table = Table(title="Translate / summarize / review on the written fixtures", show_lines=False)
        for column in ("Fixture", "Jargon", "Considerations", "Facts kept", "Review", "Reqs", "Grade", "Summary grade"):
            table.add_column(column, justify="left" if column == "Fixture" else "right")
        for s in scores:
            review = f"{s.review_agree}/{s.review_items}" if s.review_items else ""
            reqs = f"{s.requirements} (≥{s.requirements_min})" if s.requirements_min else ""
            table.add_row(
                s.name,
                f"{s.explained}/{s.jargon}",
                f"{s.raised}/{s.considerations}",
                f"{s.facts_kept}/{s.facts}",
                review,
                reqs,
                f"{s.grade:.1f}",
                f"{s.summary_grade:.1f}",
            )

        def total(attr: str) -> int:
            return sum(int(getattr(s, attr)) for s in scores)

        table.add_row(
            "[bold]all[/bold]",
            f"{total('explained')}/{total('jargon')}",
            f"{total('raised')}/{total('considerations')}",
            f"{total('facts_kept')}/{total('facts')}",
            f"{total('review_agree')}/{total('review_items')}",
            "",
            f"max {max(s.grade for s in scores):.1f}",
            f"max {max(s.summary_grade for s in scores):.1f}",
        )
        console.print(table)
        for s in scores:
            if s.missing_terms or s.missing_considerations:
                console.print(
                    f"[dim]{s.name}: unexplained {list(s.missing_terms)}; "
                    f"not raised {list(s.missing_considerations)}[/dim]"
                )
        _save("translate", [s.__dict__ for s in scores])

    @app.command("ingest")
    def ingest(
        path: Annotated[Path, typer.Argument(help="What to ingest.")] = DEFAULT_SHARED / "corpus",
        keep: Annotated[Path | None, typer.Option("--keep", help="Keep the index in this home folder.")] = None,
    ) -> None:
        """Ingest throughput against raw embedding throughput of the same chunks; re-run cost."""
        home = keep or Path(tempfile.mkdtemp(prefix="citybridge-bench-"))
        command = [sys.executable, "-m", "bot", "--home", str(home), "ingest", str(path), "--json"]
        first = _timed_run(command)
        second = _timed_run(command)
        services = Services(settings().with_home(home))
        stats = services.index.stats()
        texts = [
            chunk.embedding_text()
            for doc_id in services.index.document_ids()
            for chunk in services.index.chunks_of(doc_id)
        ]
        services.embedder.embed_documents(texts[:64])  # load the model before timing
        started = time.perf_counter()
        services.embedder.embed_documents(texts)
        raw = time.perf_counter() - started
        table = Table(title=f"Ingest benchmark: {path}")
        table.add_column("Measure")
        table.add_column("Value", justify="right")
        table.add_row("documents / chunks", f"{stats.documents:,} / {stats.chunks:,}")
        table.add_row("first run (whole command)", f"{first:.1f} s  ({stats.chunks / first:.1f} chunks/s)")
        table.add_row("raw embedding of the same chunks", f"{raw:.1f} s  ({len(texts) / raw:.1f} chunks/s)")
        table.add_row("ratio first run / raw embedding", f"{first / raw:.2f}x")
        table.add_row("second run, nothing changed", f"{second:.1f} s  ({100 * second / first:.1f}% of first)")
        console.print(table)
        _save(
            "ingest",
            {
                "path": str(path),
                "chunks": stats.chunks,
                "first_s": first,
                "raw_embed_s": raw,
                "second_s": second,
            },
        )

    @app.command("latency")
    def latency(
        queries: Annotated[int, typer.Option("--queries", help="How many timed queries.")] = 300,
        k: Annotated[int, typer.Option("--k")] = 10,
        shared: SharedOption = DEFAULT_SHARED,
    ) -> None:
        """Warm search latency (p50/p95) on the index in --home."""
        services = Services(settings())
        texts = _latency_queries(shared, queries + 10)
        for text in texts[:10]:
            services.searcher.search(text, k=k)
        timings = []
        for text in texts[10:]:
            started = time.perf_counter()
            services.searcher.search(text, k=k)
            timings.append((time.perf_counter() - started) * 1000)
        stats = services.index.stats()
        table = Table(title=f"Warm search latency, k={k}, {stats.chunks:,} chunks")
        table.add_column("Queries", justify="right")
        table.add_column("p50 ms", justify="right")
        table.add_column("p95 ms", justify="right")
        table.add_column("max ms", justify="right")
        table.add_row(
            str(len(timings)),
            f"{percentile(timings, 50):.1f}",
            f"{percentile(timings, 95):.1f}",
            f"{max(timings):.1f}",
        )
        console.print(table)
        _save(
            "latency",
            {"chunks": stats.chunks, "p50": percentile(timings, 50), "p95": percentile(timings, 95)},
        )

    @app.command("answers")
    def answers(
        split: Annotated[str, typer.Option("--split", help="dev (tune on it), test (report it) or all.")] = "test",
        keep: Annotated[Path | None, typer.Option("--keep", help="Index in this home folder and keep it.")] = None,
        shared: SharedOption = DEFAULT_SHARED,
    ) -> None:
        """Lead-sentence accuracy, fact recall, near-miss and decline rates per question type: `ask` against
        stop 7's `ask`, on ../shared/corpus plus the sample library, in one run."""
        from bench.answers import load_questions, run, summarise  # noqa: PLC0415

        questions = load_questions(split=split)
        if not questions:
            raise typer.BadParameter(f"no questions in split {split!r}; use dev, test or all", param_hint="--split")
        home = keep or Path(tempfile.mkdtemp(prefix="citybridge-bench-"))
        current = settings().with_home(home)
        services = Services(current)
        progress = RichProgress(console)
        services.ingestor(progress).run([shared / "corpus", current.library_dir], services.ingest_options())
        systems = {
            "ask (now)": services.assistant.ask,
            "ask (stop 7)": BaselineAssistant(services.searcher, answer_threshold=current.answer_threshold).ask,
        }
        rows = []
        for name, ask in systems.items():
            progress.begin(f"{name}: {len(questions)} {split} questions", len(questions))
            rows += summarise(name, run(ask, questions, progress.advance))
            progress.end()
        services.close()
        console.print(_answers_table(rows, split))
        for row in rows:
            if row.type == "all" and row.misses:
                console.print(f"[dim]{row.system} missed: {' '.join(row.misses)}[/dim]")
        _save(f"answers-{split}", [row.__dict__ for row in rows])

    @app.command("calibrate")
    def calibrate(questions: Annotated[Path, typer.Option("--questions")] = QUESTIONS) -> None:
        """The passage-similarity threshold of stop 7's `ask` on labelled questions over the sample library
        (today's `ask` declines by coverage instead; `bench answers` measures it)."""

        with tempfile.TemporaryDirectory(prefix="citybridge-bench-") as home:
            current = settings()
            services = Services(current.with_home(Path(home)))
            services.ensure_library(RichProgress(console))
            assistant = BaselineAssistant(services.searcher, answer_threshold=0.0)
            items = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line]
            rows = [(assistant.ask(item["question"]), item) for item in items]
            services.close()
        labelled = [(result.confidence, bool(item["answerable"])) for result, item in rows]
        table = Table(title=f"No-answer threshold on {len(labelled)} labelled questions")
        for column in ("Threshold", "Accuracy", "Answered wrongly", "Refused wrongly"):
            table.add_column(column, justify="right")
        best = max((t / 100 for t in range(20, 71)), key=lambda t: (_accuracy(labelled, t), -abs(t - 0.4)))
        for threshold in sorted({0.30, 0.35, 0.38, 0.40, 0.42, 0.45, 0.50, best, current.answer_threshold}):
            wrong_yes = sum(1 for c, a in labelled if c >= threshold and not a)
            wrong_no = sum(1 for c, a in labelled if c < threshold and a)
            mark = " ← best" if threshold == best else (" ← current" if threshold == current.answer_threshold else "")
            table.add_row(
                f"{threshold:.2f}{mark}",
                f"{_accuracy(labelled, threshold):.3f}",
                str(wrong_yes),
                str(wrong_no),
            )
        console.print(table)
        answerable = [(result, item) for result, item in rows if item["answerable"]]
        cited = sum(1 for result, item in answerable if {c.doc_id for c in result.citations} & set(item["doc_ids"]))
        console.print(f"Answerable questions whose citations include an expected document: {cited}/{len(answerable)}")
        _save("calibrate", {"best": best, "points": labelled})


def _answers_table(rows: list[Any], split: str) -> Table:
    table = Table(title=f"Answers on the {split} split (gold fact in the lead sentence; near-misses must be declined)")
    columns = ("Type", "System", "Ans.", "Near", "Lead acc.", "Fact recall", "Wrong on near", "Declined ans.")
    for column in (*columns, "Median words", "Fragments"):
        table.add_column(column, justify="left" if column in ("Type", "System") else "right")

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{100 * value:.0f}%"

    for row in sorted(rows, key=lambda r: (r.type == "all", r.type, r.system)):
        table.add_row(
            f"[bold]{row.type}[/bold]" if row.type == "all" else row.type,
            row.system,
            str(row.answerable),
            str(row.near_misses),
            pct(row.lead_accuracy),
            pct(row.fact_recall),
            pct(row.wrong_on_near_miss),
            pct(row.declined_answerable),
            "–" if row.median_words is None else f"{row.median_words:.0f}",
            f"{row.fragments}/{row.sentences}",
        )
    return table


def _accuracy(labelled: list[tuple[float, bool]], threshold: float) -> float:
    return sum(1 for c, a in labelled if (c >= threshold) == a) / max(len(labelled), 1)


def _timed_run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)  # noqa: S603 - our own CLI
    return time.perf_counter() - started


def _latency_queries(shared: Path, count: int) -> list[str]:
    texts: list[str] = []
    if QUESTIONS.exists():
        texts += [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    policy = shared / "benchmarks" / "policyqa" / "beir_test" / "queries.jsonl"
    if policy.exists():
        with policy.open(encoding="utf-8") as handle:
            for line in handle:
                text = json.loads(line)["text"]
                if text not in texts:
                    texts.append(text)
                if len(texts) >= count:
                    break
    return texts[:count]


def _held_out_table(console: Console, scores: list[Any]) -> None:
    """Per half and kind: the figures issue 10 asks for, summed over the items."""
    table = Table(title="Held-out translation set (bench/data/translate): tune on dev, report test")
    columns = (
        "Half",
        "Kind",
        "Items",
        "Jargon explained",
        "Flagged",
        "Detected explained",
        "Considerations",
        "With quote",
        "Facts kept",
        "Summary grade (max)",
        "1st-person",
        "Mappings",
        "Vague flagged",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("Half", "Kind") else "right")

    def pct(a: int, b: int) -> str:
        return f"{a}/{b} ({100 * a / b:.0f}%)" if b else "–"

    for half in ("dev", "dev2", "test"):
        for kind in ("proposals", "clauses"):
            group = [s for s in scores if s.split == half and s.name.startswith(kind)]
            if not group:
                continue

            def total(attr: str, items: list[Any] = group) -> int:
                return sum(int(getattr(s, attr)) for s in items)

            proposals = kind == "proposals"
            table.add_row(
                half,
                kind,
                str(len(group)),
                pct(total("explained"), total("jargon")),
                str(total("flagged")),
                pct(total("detected_explained"), total("detected")),
                pct(total("raised"), total("considerations")),
                pct(total("quoted"), total("considerations")),
                pct(total("facts_kept"), total("facts")) if proposals else "–",
                f"{max(s.summary_grade for s in group):.1f}" if proposals else "–",
                str(total("first_person")) if proposals else "–",
                "–" if proposals else pct(total("mapped"), total("mappings")),
                "–" if proposals else pct(total("vague_flagged"), total("vague")),
            )
    console.print(table)


def _save(name: str, payload: object) -> None:
    folder = Path(__file__).resolve().parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
