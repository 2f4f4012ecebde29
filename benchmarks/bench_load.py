"""Load on loopback: simulated users search a real `reviewlens serve` process while a batch of
plain-text reviews is uploaded through the same API, until every upload has ended.

    .venv/bin/python -m benchmarks.bench_load --users 20 --docs 200

Reports the search error rate (any answer but 200, or no answer), search latency p50/p95/p99,
searches per second, and how long the batch took to reach `done`. Target (issue 7): error rate 0
with 20 users during a 200-document batch. It stops by itself: when the batch has ended, or at
`--timeout` (then it says so and exits non-zero).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_api import serve
from benchmarks.bench_upload import as_text
from benchmarks.corpus_gen import CorpusGenerator

QUERIES: list[dict[str, Any]] = [
    {"q": "neglect"},
    {"q": '"hidden men"'},
    {"q": "domestic abuse", "stance": "worried"},
    {"q": "information sharing", "year_from": 2018},
    {"q": "escalat*"},
    {"q": "voice OR lived", "doc_type": "cspr"},
    {"q": "police -school"},
    {"q": "professional curiosity"},
    {"q": "(bruising OR injury) baby"},
    {"q": "MARAC"},
    {"theme": "neglect"},
    {"q": "health visitor", "section_kind": "findings"},
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def search_user(
    client: httpx.AsyncClient, seed: int, stop: asyncio.Event, out: dict[str, Any]
) -> None:
    """One user: a query, the answer, a short think, again, until the batch has ended."""
    rng = random.Random(seed)
    while not stop.is_set():
        params = {"limit": 10, **rng.choice(QUERIES)}
        start = time.perf_counter()
        try:
            response = await client.get("/api/search", params=params)
            ok = response.status_code == 200
            if not ok:
                out["statuses"][response.status_code] = (
                    out["statuses"].get(response.status_code, 0) + 1
                )
        except httpx.HTTPError as exc:
            ok = False
            out["statuses"][type(exc).__name__] = out["statuses"].get(type(exc).__name__, 0) + 1
        out["latencies" if ok else "error_latencies"].append(time.perf_counter() - start)
        await asyncio.sleep(rng.uniform(0.0, 0.05))


async def upload_batch(client: httpx.AsyncClient, texts: list[str], per_request: int) -> list[str]:
    job_ids: list[str] = []
    for first in range(0, len(texts), per_request):
        files = [
            ("files", (f"load-{first + k:04d}.txt", text.encode(), "text/plain"))
            for k, text in enumerate(texts[first : first + per_request])
        ]
        response = await client.post("/api/documents", files=files)
        response.raise_for_status()
        job_ids += [item["id"] for item in response.json()["jobs"] if item["id"]]
    return job_ids


async def wait_batch(
    client: httpx.AsyncClient, job_ids: list[str], deadline: float
) -> dict[str, int]:
    """Poll the job counts until none of the batch is pending; returns the final counts."""
    while time.monotonic() < deadline:
        counts: dict[str, int] = (await client.get("/api/jobs", params={"limit": 1})).json()[
            "counts"
        ]
        pending = sum(counts.get(s, 0) for s in ("queued", "extracting", "tagging", "indexing"))
        if pending == 0 and counts.get("done", 0) + counts.get("failed", 0) >= len(job_ids):
            return counts
        await asyncio.sleep(0.25)
    raise TimeoutError


async def drive(url: str, args: argparse.Namespace, texts: list[str]) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.users + 4)
    timeout = httpx.Timeout(30.0)
    out: dict[str, Any] = {"latencies": [], "error_latencies": [], "statuses": {}}
    async with (
        httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as searches,
        httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(120.0)) as uploads,
    ):
        stop = asyncio.Event()
        users = [
            asyncio.create_task(search_user(searches, seed, stop, out))
            for seed in range(args.users)
        ]
        started = time.monotonic()
        timed_out = False
        try:
            job_ids = await upload_batch(uploads, texts, args.per_request)
            accepted_s = time.monotonic() - started
            counts = await wait_batch(uploads, job_ids, started + args.timeout)
        except TimeoutError:
            timed_out, counts, accepted_s, job_ids = True, {}, float("nan"), []
        finally:
            stop.set()
            await asyncio.gather(*users)
        out.update(
            batch_s=time.monotonic() - started,
            accepted_s=accepted_s,
            counts=counts,
            jobs=len(job_ids),
            timed_out=timed_out,
        )
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    generator = CorpusGenerator(args.seed)
    docs = list(generator.documents(args.docs + args.preload))
    texts = [as_text(doc) for doc in docs]
    preload, batch = texts[: args.preload], texts[args.preload :]
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="reviewlens-bench-load-"))
    env = {"REVIEWLENS_WORKERS": str(args.workers)} if args.workers else {}
    server = serve(data_dir, env)
    try:

        async def seed_library() -> None:
            async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
                job_ids = await upload_batch(client, preload, args.per_request)
                await wait_batch(client, job_ids, time.monotonic() + args.timeout)

        asyncio.run(seed_library())  # so searches have something to find from the start
        result = asyncio.run(drive(server.url, args, batch))
    finally:
        server.stop()
    latencies = result["latencies"]
    errors = len(result["error_latencies"])
    total = len(latencies) + errors
    done = result["counts"].get("done", 0) - args.preload
    return {
        "users": args.users,
        "documents": args.docs,
        "searches": total,
        "search_errors": errors,
        "error_rate": round(errors / total, 5) if total else None,
        "error_kinds": {str(k): v for k, v in result["statuses"].items()},
        "search_p50_ms": round(percentile(latencies, 0.50) * 1000, 1) if latencies else None,
        "search_p95_ms": round(percentile(latencies, 0.95) * 1000, 1) if latencies else None,
        "search_p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "search_mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "searches_per_s": round(total / result["batch_s"], 1),
        "batch_accepted_s": round(result["accepted_s"], 2),
        "batch_done_s": round(result["batch_s"], 2),
        "batch_done": done,
        "batch_failed": result["counts"].get("failed", 0),
        "documents_per_s": round(done / result["batch_s"], 2),
        "timed_out": result["timed_out"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--preload", type=int, default=20, help="Documents indexed beforehand.")
    parser.add_argument("--per-request", type=int, default=10, help="Files per upload request.")
    parser.add_argument("--workers", type=int, default=0, help="Server workers (0: per core).")
    parser.add_argument("--timeout", type=float, default=900.0, help="Give up after (s).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", help="Keep the data here (default: a temporary folder).")
    args = parser.parse_args()
    report = run(args)
    print(json.dumps(report, indent=2))
    if report["timed_out"] or report["search_errors"] or report["batch_failed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
