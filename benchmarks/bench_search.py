"""Search benchmark: indexing rate, query latency and theme-frequency latency on the generated
library (`benchmarks.corpus_gen`), for either backend, so the two can be compared in one run.

    .venv/bin/python -m benchmarks.bench_search --backend sqlite --docs 2000
    .venv/bin/python -m benchmarks.bench_search --backend elasticsearch \
        --elasticsearch-url http://127.0.0.1:9200

Targets (issue 4): search p95 <= 100 ms over the 50 queries below, theme frequency by year
<= 200 ms. Generation time is excluded from the indexing rate; only backend calls are timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.corpus_gen import CorpusGenerator
from reviewlens.model import Document
from reviewlens.settings import Settings
from search_api.backend import (
    EmergingRequest,
    Expand,
    Filters,
    GroupBy,
    SearchBackend,
    SearchRequest,
    create_backend,
)

F = Filters
# fmt: off
QUERIES: list[tuple[str | None, Filters]] = [
    ("neglect", F()),
    ("professional curiosity", F()),
    ('"hidden man"', F()),
    ('"voice of the child"', F(doc_types=["cspr", "scr"])),
    ("information sharing", F(year_from=2020)),
    ("bruising baby", F(themes=["bruising_non_mobile"])),
    ("bruised babies", F(doc_types=["cspr"], year_from=2018, year_to=2022)),
    ("domestic abuse OR coercive control", F()),
    ("coercive control", F(doc_types=["dhr"])),
    ("escalat*", F(stances=["worried"])),
    ("neglect -school", F(section_kinds=["findings"])),
    ("neglect NOT (school OR housing)", F()),
    ("CSE", F()),
    ("CCE OR \"county lines\"", F(year_from=2019)),
    ("online groom*", F(themes=["online_harm"])),
    ("self-neglect hoarding", F(doc_types=["sar"])),
    ("mental capacity assessment", F(doc_types=["sar"], year_from=2016)),
    ("safe sleep", F(agencies=["health"])),
    ('"co-sleeping"', F()),
    ("risk assessment violence", F(themes=["risk_assessment"])),
    ("DASH", F(doc_types=["dhr", "cspr"])),
    ("disguised compliance", F(stances=["worried"])),
    ("strategy meeting", F(section_kinds=["chronology"])),
    ("supervision caseload*", F(year_from=2021, year_to=2025)),
    ("early help declined", F()),
    ("transition adult services", F(themes=["transitions_to_adulthood"])),
    ("economic abuse money", F(year_from=2021)),
    ("self-harm CAMHS", F()),
    ("police referral", F(agencies=["police"], stances=["worried"])),
    ("GP appointment", F(agencies=["gp"])),
    ("housing provider", F(doc_types=["sar", "dhr"])),
    ("tenacity relationship", F(section_kinds=["good_practice"])),
    ("good practice timely", F(stances=["worked_well"])),
    ("neglect", F(themes=["neglect", "voice_of_child"])),
    ("neglect", F(year_from=2014, year_to=2016)),
    ("lifestyle choice", F()),
    ("exploitation", F(themes=["child_criminal_exploitation"], year_from=2020)),
    ("father* male carer*", F()),
    ("drinking drug testing", F(themes=["substance_misuse"])),
    ("parental mental health", F(doc_types=["cspr", "scr", "national_review"])),
    ("MASH information", F()),
    ("threshold* CAMHS", F(year_from=2018)),
    ("section 47 enquiry", F()),
    ("chronic neglect home conditions", F(section_kinds=["findings", "analysis"])),
    ("staff turnover", F(doc_types=["audit", "ofsted_ilacs", "jtai"])),
    ("missing", F(themes=["child_sexual_exploitation"])),
    ("gaming platform OR social media", F()),
    ("wishes feelings", F(agencies=["children's social care"])),
    ("apparent cooperation", F(year_to=2019)),
    ("county lines drug dealing", F(doc_types=["cspr", "scr"], stances=["worried"])),
]
# fmt: on
assert len(QUERIES) == 50


def taxonomy_expand() -> Expand | None:
    """The shipped taxonomy's abbreviation expansion, as the API uses it."""
    try:
        from nlp.taxonomy import load_taxonomy

        return load_taxonomy().expand_query_term
    except Exception as exc:  # noqa: BLE001 - a benchmark still runs without expansion
        print(f"note: no abbreviation expansion ({exc.__class__.__name__})", file=sys.stderr)
        return None


def make_backend(args: argparse.Namespace, data_dir: Path, expand: Expand | None) -> SearchBackend:
    settings = Settings(
        data_dir=data_dir,
        search_backend=args.backend,
        elasticsearch_url=args.elasticsearch_url,
        elasticsearch_index_prefix=args.index_prefix,
    )
    return create_backend(settings, expand=expand)


CPU: list[float] = []  # CPU time of the calling thread for each timed call, in ms


def timed(fn: Callable[[], Any]) -> float:
    """Wall-clock ms; the thread's CPU ms go to CPU, which shared machines distort less."""
    cpu = time.thread_time()
    start = time.perf_counter()
    fn()
    wall = (time.perf_counter() - start) * 1000
    CPU.append((time.thread_time() - cpu) * 1000)
    return wall


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def run(args: argparse.Namespace) -> dict[str, Any]:
    expand = taxonomy_expand()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="reviewlens-bench-"))
    backend = make_backend(args, data_dir, expand)
    generator = CorpusGenerator(args.seed)
    figures: dict[str, Any] = {
        "backend": args.backend,
        "documents": args.docs,
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
    }
    try:
        if args.reuse and backend.count() == args.docs:
            print(f"reusing the index in {data_dir}", file=sys.stderr)
        else:
            index_seconds = 0.0
            passages = 0
            batch: list[Document] = []
            for n, doc in enumerate(generator.documents(args.docs), 1):
                batch.append(doc)
                passages += len(doc.passages)
                if len(batch) == args.batch or n == args.docs:
                    start = time.perf_counter()
                    backend.index_documents(batch)
                    index_seconds += time.perf_counter() - start
                    batch = []
                    if n % 500 == 0 or n == args.docs:
                        print(f"indexed {n} documents", file=sys.stderr)
            figures["passages"] = passages
            figures["index_seconds"] = round(index_seconds, 2)
            figures["index_passages_per_s"] = round(passages / index_seconds)
        requests = [SearchRequest(query=q, filters=f, limit=10) for q, f in QUERIES]
        totals = [backend.search(r).total for r in requests]  # warm-up
        CPU.clear()
        latencies = [
            timed(partial(backend.search, r)) for _ in range(args.rounds) for r in requests
        ]
        search_cpu = list(CPU)
        figures["queries"] = len(requests)
        figures["query_runs"] = len(latencies)
        figures["search_p50_ms"] = round(percentile(latencies, 50), 1)
        figures["search_p95_ms"] = round(percentile(latencies, 95), 1)
        figures["search_max_ms"] = round(max(latencies), 1)
        figures["search_cpu_p50_ms"] = round(percentile(search_cpu, 50), 1)
        figures["search_cpu_p95_ms"] = round(percentile(search_cpu, 95), 1)
        figures["median_hits"] = statistics.median(totals)
        figures["queries_without_hits"] = sum(1 for t in totals if t == 0)
        groups: list[GroupBy] = ["year", "quarter", "doc_type", "source"]
        for by in groups:
            backend.theme_frequency(by)
            CPU.clear()
            runs = [timed(partial(backend.theme_frequency, by)) for _ in range(args.rounds * 3)]
            figures[f"frequency_{by}_cpu_max_ms"] = round(max(CPU), 1)
            figures[f"frequency_{by}_median_ms"] = round(statistics.median(runs), 1)
            figures[f"frequency_{by}_max_ms"] = round(max(runs), 1)
        filtered = Filters(doc_types=["cspr", "scr"], stances=["worried"])
        runs = [
            timed(lambda: backend.theme_frequency("year", filtered)) for _ in range(args.rounds)
        ]
        figures["frequency_year_passage_filters_median_ms"] = round(statistics.median(runs), 1)
        figures["cooccurrence_ms"] = round(timed(backend.cooccurrence), 1)
        emerging = EmergingRequest(
            recent_from=2023, recent_to=2025, baseline_from=2014, baseline_to=2020
        )
        result: list[Any] = []
        figures["emerging_ms"] = round(timed(lambda: result.append(backend.emerging(emerging))), 1)
        figures["emerging_top_themes"] = [t.theme for t in result[0].themes[:5]]
        figures["recommendations_page_ms"] = round(
            timed(lambda: backend.recommendations(limit=50)), 1
        )
    finally:
        backend.close()
    figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
    figures["targets_met"] = {
        "search_p95_le_100ms": figures["search_p95_ms"] <= 100,
        "frequency_year_le_200ms": figures["frequency_year_max_ms"] <= 200,
    }
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "elasticsearch"], default="sqlite")
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20241)
    parser.add_argument("--batch", type=int, default=100, help="documents per index call")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--data-dir", help="keep the SQLite file here (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="skip indexing if already full")
    parser.add_argument("--elasticsearch-url", default="http://127.0.0.1:9200")
    parser.add_argument("--index-prefix", default="reviewlens-bench")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = run(args)
    for key, value in figures.items():
        print(f"{key:45} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if all(figures["targets_met"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
