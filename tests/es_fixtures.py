"""Elasticsearch test helpers: find the real node that scripts/elasticsearch.sh starts, give
each test its own index prefix, and remove that test's indices afterwards.

A missing node skips the Elasticsearch tests with the reason, unless REVIEWLENS_REQUIRE_ES is
set (CI sets it), where a missing node fails them: CI must never go green by skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search_api.es_backend import ElasticsearchBackend

REPO_ROOT = Path(__file__).resolve().parent.parent
ES_SCRIPT = REPO_ROOT / "scripts" / "elasticsearch.sh"
ES_URL = os.environ.get("REVIEWLENS_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
TEST_PREFIX = "rltest"


def cluster_health(url: str = ES_URL, timeout: float = 3.0) -> dict[str, object] | None:
    """The node's health document, or None when nothing answers (this build has no GET /)."""
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=timeout) as response:
            health: dict[str, object] = json.loads(response.read())
            return health
    except (urllib.error.URLError, OSError, ValueError):
        return None


def require_node() -> None:
    if cluster_health() is not None:
        return
    reason = (
        f"no Elasticsearch node answers at {ES_URL}; start one with scripts/elasticsearch.sh "
        "start (or set REVIEWLENS_ELASTICSEARCH_URL)"
    )
    if os.environ.get("REVIEWLENS_REQUIRE_ES"):
        pytest.fail(reason + " [REVIEWLENS_REQUIRE_ES is set, so this is a failure]")
    pytest.skip(reason)


def es_script(command: str, port: str | None = None) -> str:
    """Run scripts/elasticsearch.sh for a node on `port` (default: the port of ES_URL)."""
    port = port or ES_URL.rsplit(":", 1)[-1].split("/")[0]
    done = subprocess.run(
        ["bash", str(ES_SCRIPT), command],
        env={**os.environ, "REVIEWLENS_ES_PORT": port},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if command != "status" and done.returncode != 0:
        raise RuntimeError(f"elasticsearch.sh {command} failed: {done.stderr[-2000:]}")
    return done.stdout


BackendFactory = Callable[..., ElasticsearchBackend]


@pytest.fixture
def es_factory() -> Iterator[BackendFactory]:
    """Makes backends on the real node, each test with its own prefix; drops them afterwards."""
    require_node()
    prefix = f"{TEST_PREFIX}-{uuid.uuid4().hex[:10]}"
    made: list[ElasticsearchBackend] = []

    def make(**kwargs: object) -> ElasticsearchBackend:
        backend = ElasticsearchBackend(ES_URL, prefix=prefix, **kwargs)  # type: ignore[arg-type]
        made.append(backend)
        return backend

    yield make
    cleaner = ElasticsearchBackend(ES_URL, prefix=prefix, retries=8, backoff_s=0.5)
    try:
        cleaner.delete_indices()
    finally:
        cleaner.close()
        for backend in made:
            backend.close()
