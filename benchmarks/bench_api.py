"""API overhead: the same 50 queries (with filters) run directly on the backend and through the
HTTP API of a real `reviewlens serve` process on loopback, over the generated library.

    .venv/bin/python -m benchmarks.bench_api --docs 2000

Target (issue 4): the API takes at most 1.5x the backend's own time for the same query. Both
sides run the full request (hits, highlights, facets); the API side adds routing, validation,
JSON encoding, HTTP and a second process. Reported per query (median ratio) and in total.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_search import QUERIES, percentile, taxonomy_expand
from benchmarks.corpus_gen import CorpusGenerator
from reviewlens.model import Document
from reviewlens.settings import Settings
from search_api.backend import Filters, SearchRequest, create_backend
from search_api.testing import ServeProcess

# a benchmark is one client asking as fast as it can: rate limits would measure themselves
UNLIMITED = {
    "REVIEWLENS_API_KEYS": "",
    "REVIEWLENS_RATE_LIMIT_SEARCHES_PER_MINUTE": "100000000",
    "REVIEWLENS_RATE_LIMIT_UPLOADS_PER_MINUTE": "100000000",
}


def serve(data_dir: Path, env: dict[str, str] | None = None) -> ServeProcess:
    """A started `reviewlens serve` over `data_dir`, without rate limits."""
    server = ServeProcess(
        data_dir,
        {**UNLIMITED, "REVIEWLENS_LOG_LEVEL": "WARNING", **(env or {})},
        log_path=data_dir.parent / f"{data_dir.name}-server.log",
    )
    return server.start(timeout=120)


def query_params(query: str | None, filters: Filters) -> list[tuple[str, str | int]]:
    """The API parameters that ask for the same request as `SearchRequest(query, filters)`."""
    params: list[tuple[str, str | int]] = [("limit", 10)]
    if query is not None:
        params.append(("q", query))
    params += [("theme", t) for t in filters.themes]
    params += [("doc_type", t) for t in filters.doc_types]
    params += [("agency", a) for a in filters.agencies]
    params += [("section_kind", k) for k in filters.section_kinds]
    params += [("stance", s) for s in filters.stances]
    if filters.year_from is not None:
        params.append(("year_from", filters.year_from))
    if filters.year_to is not None:
        params.append(("year_to", filters.year_to))
    return params


def build_library(data_dir: Path, docs: int, seed: int) -> int:
    settings = Settings(data_dir=data_dir)
    backend = create_backend(settings, expand=taxonomy_expand())
    try:
        if backend.count() == docs:
            return docs
        batch: list[Document] = []
        for n, doc in enumerate(CorpusGenerator(seed).documents(docs), 1):
            batch.append(doc)
            if len(batch) == 100 or n == docs:
                backend.index_documents(batch)
                batch = []
                if n % 500 == 0 or n == docs:
                    print(f"indexed {n} documents", file=sys.stderr)
        return backend.count()
    finally:
        backend.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="reviewlens-bench-api-"))
    figures: dict[str, Any] = {"documents": build_library(data_dir, args.docs, args.seed)}
    backend = create_backend(Settings(data_dir=data_dir), expand=taxonomy_expand())
    server = serve(data_dir)
    try:
        requests = [SearchRequest(query=q, filters=f, limit=10) for q, f in QUERIES]
        params = [query_params(q, f) for q, f in QUERIES]
        with httpx.Client(base_url=server.url, timeout=30) as client:
            # warm both sides, and check they agree on every query
            for request, param in zip(requests, params, strict=True):
                direct_total = backend.search(request).total
                response = client.get("/api/search", params=param)
                response.raise_for_status()
                assert response.json()["total"] == direct_total, (request.query, param)
            # the server warms its tagging processes at start; let that finish before timing
            settle_until = time.monotonic() + args.settle
            while time.monotonic() < settle_until:
                for param in params:
                    client.get("/api/search", params=param)
            direct_ms: list[list[float]] = [[] for _ in requests]
            api_ms: list[list[float]] = [[] for _ in requests]
            for _round in range(args.rounds):
                for i, (request, param) in enumerate(zip(requests, params, strict=True)):
                    start = time.perf_counter()
                    backend.search(request)
                    direct_ms[i].append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    client.get("/api/search", params=param).raise_for_status()
                    api_ms[i].append((time.perf_counter() - start) * 1000)
    finally:
        server.stop()
        backend.close()
    direct_median = [statistics.median(runs) for runs in direct_ms]
    api_median = [statistics.median(runs) for runs in api_ms]
    ratios = [a / d for a, d in zip(api_median, direct_median, strict=True)]
    all_direct = [x for runs in direct_ms for x in runs]
    all_api = [x for runs in api_ms for x in runs]
    figures.update(
        {
            "queries": len(requests),
            "rounds": args.rounds,
            "direct_p50_ms": round(percentile(all_direct, 50), 2),
            "direct_p95_ms": round(percentile(all_direct, 95), 2),
            "api_p50_ms": round(percentile(all_api, 50), 2),
            "api_p95_ms": round(percentile(all_api, 95), 2),
            "overhead_total_ratio": round(sum(api_median) / sum(direct_median), 3),
            "overhead_median_query_ratio": round(statistics.median(ratios), 3),
            "overhead_p95_ratio": round(percentile(all_api, 95) / percentile(all_direct, 95), 3),
            "added_ms_median": round(
                statistics.median(a - d for a, d in zip(api_median, direct_median, strict=True)),
                2,
            ),
        }
    )
    figures["target_met"] = {"api_overhead_le_1_5x": figures["overhead_total_ratio"] <= 1.5}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=20.0, help="Warm-up seconds.")
    parser.add_argument("--seed", type=int, default=20241)
    parser.add_argument("--data-dir", help="Keep (and reuse) the library here.")
    args = parser.parse_args(argv)
    figures = run(args)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
