"""SQLite and Elasticsearch side by side, in one run, on the same generated library and the same
50 queries (`benchmarks.bench_search`), so the figures are comparable and say where each wins.

    scripts/elasticsearch.sh start
    .venv/bin/python -m benchmarks.bench_backends --docs 200      # quick
    .venv/bin/python -m benchmarks.bench_backends                 # the full 2,000 documents

Lower is better for latencies, higher for indexing rates. The Elasticsearch indices are
removed afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks import bench_search

# (figure, label, higher is better)
COMPARED: list[tuple[str, str, bool]] = [
    ("index_passages_per_s", "bulk indexing, passages/s", True),
    ("search_p50_ms", "search p50, ms", False),
    ("search_p95_ms", "search p95, ms", False),
    ("search_max_ms", "search max, ms", False),
    ("frequency_year_median_ms", "theme frequency by year, ms", False),
    ("frequency_year_max_ms", "theme frequency by year (max), ms", False),
    ("frequency_quarter_median_ms", "theme frequency by quarter, ms", False),
    ("frequency_doc_type_median_ms", "theme frequency by type, ms", False),
    ("frequency_source_median_ms", "theme frequency by source, ms", False),
    ("frequency_year_passage_filters_median_ms", "frequency, passage filters, ms", False),
    ("cooccurrence_ms", "co-occurrence, ms", False),
    ("emerging_ms", "emerging terms and themes, ms", False),
    ("recommendations_page_ms", "recommendations page, ms", False),
]


def backend_args(args: argparse.Namespace, backend: str, prefix: str) -> argparse.Namespace:
    return argparse.Namespace(
        backend=backend,
        docs=args.docs,
        seed=args.seed,
        batch=args.batch,
        rounds=args.rounds,
        data_dir=None,
        reuse=False,
        elasticsearch_url=args.elasticsearch_url,
        index_prefix=prefix,
        json=None,
    )


def drop_indices(url: str, prefix: str) -> None:
    from search_api.es_backend import ElasticsearchBackend

    backend = ElasticsearchBackend(url, prefix=prefix)
    try:
        backend.delete_indices()
    finally:
        backend.close()


def compare(sqlite: dict[str, Any], es: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, label, higher in COMPARED:
        a, b = sqlite.get(key), es.get(key)
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            continue
        if a == b:
            winner, ratio = "tie", 1.0
        else:
            sqlite_wins = (a > b) if higher else (a < b)
            winner = "sqlite" if sqlite_wins else "elasticsearch"
            hi, lo = max(a, b), min(a, b)
            ratio = hi / lo if lo else float("inf")
        rows.append(
            {
                "figure": key,
                "label": label,
                "sqlite": a,
                "elasticsearch": b,
                "winner": winner,
                "by": round(ratio, 2),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20241)
    parser.add_argument("--batch", type=int, default=100, help="documents per index call")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--elasticsearch-url", default="http://127.0.0.1:9200")
    parser.add_argument("--keep", action="store_true", help="keep the Elasticsearch indices")
    parser.add_argument("--json", type=Path, help="also write all figures here")
    args = parser.parse_args(argv)

    prefix = f"reviewlens-bench-{uuid.uuid4().hex[:8]}"
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    try:
        for backend in ("sqlite", "elasticsearch"):
            print(f"== {backend}: {args.docs} documents", file=sys.stderr)
            results[backend] = bench_search.run(backend_args(args, backend, prefix))
    finally:
        if not args.keep:
            drop_indices(args.elasticsearch_url, prefix)

    rows = compare(results["sqlite"], results["elasticsearch"])
    print(f"\n{args.docs} documents, {results['sqlite'].get('passages')} passages")
    print(f"{'figure':38} {'sqlite':>12} {'elasticsearch':>14}  winner")
    for row in rows:
        print(
            f"{row['label']:38} {row['sqlite']:>12} {row['elasticsearch']:>14}  "
            f"{row['winner']} (x{row['by']})"
        )
    same = results["sqlite"].get("median_hits") == results["elasticsearch"].get("median_hits")
    print(f"same median hit count on both backends: {same}")
    print(f"whole run: {time.perf_counter() - started:.0f} s")
    if args.json:
        payload = {"results": results, "comparison": rows, "same_median_hits": same}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
