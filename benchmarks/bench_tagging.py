"""How fast is theme tagging? Words per second for the whole pipeline and for bare lemmas.

    .venv/bin/python benchmarks/bench_tagging.py                 # passages from the eval set
    .venv/bin/python benchmarks/bench_tagging.py --folder corpus --processes 2

Figures:
- `pipeline`: every component (lemmas, sentences, themes, negation, agencies, recommendations,
  stance) over `nlp.pipe` in batches, then the themes resolved (with the trained model, if any),
  on one core; CPU time of this process, so other work on a shared machine does not count
  against it (wall time is printed too);
- `lemmas only`: the tokenizer and lemmatizer alone, the floor any tagging pays;
- `folder`: `tag_documents` over the folder's documents (extracted by ingest), serial and over
  N processes, wall time, since that is what a user waits for.
The target is >= 100,000 words/s for the pipeline on one core.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp.analysis import BATCH_SIZE, lemmatizer  # noqa: E402
from nlp.pipeline import build_pipeline, new_pipeline, resolve_themes  # noqa: E402
from nlp.tagger import tag_documents  # noqa: E402
from nlp.taxonomy import load_taxonomy  # noqa: E402
from reviewlens.model import Document  # noqa: E402

TARGET = 100_000


def eval_texts() -> list[str]:
    path = REPO / "nlp" / "eval" / "passages.jsonl"
    return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]


def folder_documents(folder: Path) -> list[Document]:
    from ingest.pipeline import extract_document

    docs = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in {".pdf", ".docx", ".html", ".htm", ".txt"}:
            try:
                docs.append(extract_document(path.read_bytes(), path.name))
            except Exception as error:  # noqa: BLE001 - a benchmark reports and moves on
                print(f"skipped {path.name}: {type(error).__name__}", file=sys.stderr)
    return docs


def words(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts)


def rate(
    nlp_pipe: object, texts: list[str], rounds: int, resolve: bool = True
) -> tuple[float, float]:
    """Best words/s over `rounds`, by CPU time and by wall time."""
    n = words(texts)
    best_cpu = best_wall = 0.0
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for doc in nlp_pipe(texts, batch_size=BATCH_SIZE):  # type: ignore[operator]
            if resolve:
                resolve_themes(doc)  # themes resolve on access; tagging always asks for them
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        best_cpu = max(best_cpu, n / cpu)
        best_wall = max(best_wall, n / wall)
    return best_cpu, best_wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="passes over the texts per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=REPO / "corpus")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()

    taxonomy = load_taxonomy()
    nlp = build_pipeline(taxonomy)
    texts = eval_texts()
    folder_docs = folder_documents(args.folder) if args.folder.is_dir() else []
    texts += [p.text for d in folder_docs for p in d.passages]
    corpus = texts * args.repeat
    print(f"{len(texts)} distinct passages, {words(corpus):,} words per round")

    # cold: a fresh pipeline, each distinct passage once (no tokenizer or lemma cache help)
    cold = new_pipeline(taxonomy)
    cpu = time.process_time()
    for doc in cold.pipe(texts, batch_size=BATCH_SIZE):
        resolve_themes(doc)
    cold_rate = words(texts) / (time.process_time() - cpu)
    del cold  # a tagging process holds one pipeline, not two
    gc.collect()
    print(f"pipeline, cold, one pass over {words(texts):,} words: {cold_rate:,.0f} words/s CPU")

    list(nlp.pipe(texts[:100]))  # warm the matchers and caches
    cpu, wall = rate(nlp.pipe, corpus, args.rounds)
    verdict = "meets" if cpu >= TARGET else "BELOW"
    print(
        f"pipeline (all components), 1 core: {cpu:,.0f} words/s CPU, {wall:,.0f} wall "
        f"({verdict} the {TARGET:,} target)"
    )
    lemma_cpu, lemma_wall = rate(lemmatizer().pipe, corpus, args.rounds, resolve=False)
    print(
        f"lemmas only, 1 core:               {lemma_cpu:,.0f} words/s CPU, {lemma_wall:,.0f} wall"
    )

    if folder_docs:
        docs = folder_docs * max(1, args.repeat)
        n = words([p.text for d in docs for p in d.passages])
        for processes in sorted({1, args.processes}):
            own = time.process_time()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            tag_documents(docs, taxonomy, n_process=processes)
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = time.process_time() - own
            cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            print(
                f"folder ({len(docs)} documents, {n:,} words), {processes} process(es): "
                f"{n / elapsed:,.0f} words/s wall ({elapsed:.2f} s), "
                f"{cpu:.2f} CPU-s in all processes"
            )
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} cores (wall figures suffer above it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
