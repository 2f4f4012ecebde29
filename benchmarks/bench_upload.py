"""End-to-end upload speed: plain-text reviews POSTed to a real `reviewlens serve` process until
every job is done, against bare spaCy lemmatisation of the same words in the same run.

    .venv/bin/python -m benchmarks.bench_upload --docs 100

Target (issue 4): uploads reach `done` at >= 25% of the words per second of bare lemmatisation
(one process, `nlp.analysis.lemmatizer`). The upload side includes everything a user waits for:
HTTP, keeping the original, the job queue, sandboxed extraction, tagging (a process pool over
the cores) and indexing. Server start-up and the tagging pool's first load are warmed up before
the clock starts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_api import serve
from benchmarks.corpus_gen import CorpusGenerator
from reviewlens.model import Document


def as_text(doc: Document) -> str:
    """The generated review laid out as a plain-text file a partnership might save."""
    lines = [doc.title or "Review", f"{doc.metadata.get('area')} Safeguarding Partnership"]
    if doc.date:
        lines.append(f"Published: {doc.date.day} {doc.date:%B %Y}")
    lines.append("")
    section = None
    for passage in doc.passages:
        if passage.section != section:
            section = passage.section
            lines += ["", section or "", ""]
        lines += [f"{passage.paragraph} {passage.text}", ""]
    return "\n".join(lines)


def lemmatise_words_per_s(texts: list[str]) -> tuple[float, int]:
    from nlp.analysis import lemmatizer

    nlp = lemmatizer()
    for _ in nlp.pipe(texts[:2]):
        pass
    words = sum(len(text.split()) for text in texts)
    start = time.perf_counter()
    for doc in nlp.pipe(texts, batch_size=64):
        [token.lemma_ for token in doc]
    return words / (time.perf_counter() - start), words


def wait_done(client: httpx.Client, job_ids: list[str], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = client.get("/api/jobs").json()["counts"]
        if counts.get("done", 0) + counts.get("failed", 0) >= len(job_ids) and not any(
            counts.get(s) for s in ("queued", "extracting", "tagging", "indexing")
        ):
            return [client.get(f"/api/jobs/{j}").json() for j in job_ids]
        time.sleep(0.05)
    raise RuntimeError("uploads did not finish in time")


def run(args: argparse.Namespace) -> dict[str, Any]:
    generator = CorpusGenerator(args.seed)
    texts = [as_text(doc) for doc in generator.documents(args.docs + 1)]
    warm, texts = texts[0], texts[1:]
    lemma_wps, words = lemmatise_words_per_s(texts)

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="reviewlens-bench-upload-"))
    env = {"REVIEWLENS_WORKERS": str(args.workers)} if args.workers else {}
    server = serve(data_dir, env)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            warm_job = client.post(
                "/api/documents", files={"files": ("warm-up.txt", warm.encode())}
            ).json()["jobs"][0]["id"]
            wait_done(client, [warm_job], timeout=300)
            start = time.perf_counter()
            job_ids: list[str] = []
            for first in range(0, len(texts), args.batch):
                files = [
                    ("files", (f"review-{n:05d}.txt", texts[n].encode()))
                    for n in range(first, min(first + args.batch, len(texts)))
                ]
                response = client.post("/api/documents", files=files)
                response.raise_for_status()
                job_ids += [j["id"] for j in response.json()["jobs"]]
            accepted_s = time.perf_counter() - start
            jobs = wait_done(client, job_ids, timeout=args.timeout)
            elapsed = time.perf_counter() - start
    finally:
        server.stop()
    failed = [j for j in jobs if j["state"] != "done"]
    upload_wps = words / elapsed

    def mean(key: str) -> float:
        values = [j["timings"].get(key, 0.0) for j in jobs if j["timings"]]
        return round(statistics.mean(values), 3) if values else 0.0

    figures: dict[str, Any] = {
        "documents": len(texts),
        "words": words,
        "cores": os.cpu_count(),
        "failed": len(failed),
        "lemmatise_words_per_s": round(lemma_wps),
        "upload_words_per_s": round(upload_wps),
        "ratio": round(upload_wps / lemma_wps, 3),
        "wall_s": round(elapsed, 2),
        "all_accepted_s": round(accepted_s, 2),
        "docs_per_s": round(len(texts) / elapsed, 2),
        "mean_extract_s": mean("extract_s"),
        "mean_tag_s": mean("tag_s"),
        "mean_index_s": mean("index_s"),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    figures["target_met"] = {"upload_ge_25pct_of_lemmatisation": figures["ratio"] >= 0.25}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10, help="Files per upload request.")
    parser.add_argument("--workers", type=int, default=0, help="Server workers (0: per core).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    figures = run(args)
    print(json.dumps(figures, indent=2))
    return 0 if not figures["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
