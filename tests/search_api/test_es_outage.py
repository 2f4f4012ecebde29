"""Elasticsearch going down and coming back, on a real node of the test's own.

The node is stopped with scripts/elasticsearch.sh in the middle of the test and started again,
so the shared node the other tests use is never touched (the suite may run in parallel). While
it is down: the backend raises BackendUnavailable, the API answers 503 with the one error shape,
health names the backend as the part that is down, and uploads are still accepted and kept.
After the restart the waiting upload is indexed and nothing indexed before is lost.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract import data
from es_fixtures import REPO_ROOT, es_script, require_node
from fastapi.testclient import TestClient

from reviewlens.errors import BackendUnavailable
from reviewlens.settings import Settings
from search_api.app import create_app
from search_api.backend import SearchRequest
from search_api.es_backend import ElasticsearchBackend

pytestmark = [pytest.mark.elasticsearch, pytest.mark.integration, pytest.mark.slow]

OUTAGE_PORT = os.environ.get("REVIEWLENS_ES_OUTAGE_PORT", "9250")
OUTAGE_URL = f"http://127.0.0.1:{OUTAGE_PORT}"

BEFORE = (
    "Learning briefing: the case of Child K\n\n"
    "1.1 Practitioners saw the baby with a bruise on the ear and accepted the explanation that "
    "an older sibling had caused it. No one asked to see the sibling.\n\n"
    "1.2 The health visitor recorded the mark but did not share the concern with children's "
    "social care, so no strategy discussion was held.\n"
)
DURING = (
    "Multi-agency audit: missing episodes\n\n"
    "2.1 Auditors found that return home interviews after a missing episode were late in most "
    "cases, and that the cuckooing of the family flat went unrecognised for months.\n\n"
    "2.2 Police and the youth justice service held different parts of the picture.\n"
)


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    """A node of this module's own on another port; stopped when the module ends."""
    require_node()  # same skip-or-fail rule as every Elasticsearch test
    es_script_on(OUTAGE_PORT, "start")
    try:
        yield OUTAGE_URL
    finally:
        es_script_on(OUTAGE_PORT, "stop")


def es_script_on(port: str, command: str) -> None:
    es_script(command, port)


def wait_for_job(client: TestClient, job_id: str, timeout: float = 240.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, object] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in {"done", "failed"} or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def upload(client: TestClient, name: str, text: str) -> dict[str, object]:
    response = client.post("/api/documents", files=[("files", (name, text.encode(), "text/plain"))])
    assert response.status_code == 202, response.text
    job: dict[str, object] = response.json()["jobs"][0]
    return job


def test_backend_and_api_through_an_outage(node: str, tmp_path: Path) -> None:
    prefix = f"rltest-outage-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        data_dir=tmp_path / "data",
        search_backend="elasticsearch",
        elasticsearch_url=node,
        elasticsearch_index_prefix=prefix,
        elasticsearch_timeout_s=3.0,
        taxonomy_path=REPO_ROOT / "nlp" / "taxonomy.yaml",
        workers=1,
    )
    app = create_app(settings, worker_threads=1, tag_processes=0)
    direct = ElasticsearchBackend(node, prefix=prefix, retries=1, backoff_s=0.05)
    try:
        with TestClient(app) as client:
            first = upload(client, "child-k-briefing.txt", BEFORE)
            assert wait_for_job(client, str(first["id"]))["state"] == "done"
            assert client.get("/api/search", params={"q": "bruise"}).json()["total"] >= 1

            es_script_on(OUTAGE_PORT, "stop")
            try:
                # the backend object the app does not own fails the same way, fast
                with pytest.raises(BackendUnavailable):
                    direct.search(SearchRequest(query="bruise"))
                with pytest.raises(BackendUnavailable):
                    direct.index_documents(data.ALL[:1])
                assert direct.health()["status"] == "unavailable"

                search = client.get("/api/search", params={"q": "bruise"})
                assert search.status_code == 503
                error = search.json()["error"]
                assert error["code"] == "backend_unavailable"
                assert "Elasticsearch" in error["message"]

                health = client.get("/api/health")
                assert health.status_code == 503
                parts = health.json()["parts"]
                assert parts["backend"]["ok"] is False
                assert all(p["ok"] for name, p in parts.items() if name != "backend")

                # uploads are still accepted and the original kept; the job waits
                second = upload(client, "missing-episodes-audit.txt", DURING)
                library = app.state.library
                assert library.store.exists(str(second["document_id"]))
                time.sleep(1.0)
                waiting = client.get(f"/api/jobs/{second['id']}").json()
                assert waiting["state"] not in {"done", "failed"}
            finally:
                es_script_on(OUTAGE_PORT, "start")

            # back: the waiting upload is indexed and nothing from before is lost
            assert wait_for_job(client, str(second["id"]))["state"] == "done"
            assert client.get("/api/health").status_code == 200
            assert client.get("/api/search", params={"q": "bruise"}).json()["total"] >= 1
            found = client.get("/api/search", params={"q": "cuckooing"}).json()
            assert [h["document_id"] for h in found["hits"]] == [second["document_id"]]
            # the same lazily made client reconnects by itself, no rebuild of the backend
            assert direct.health()["status"] == "ok"
            assert direct.count() == 2
    finally:
        try:
            direct.delete_indices()
        finally:
            direct.close()
