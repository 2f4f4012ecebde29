#!/usr/bin/env bash
# The test command: set up (app + test tools), start a real Elasticsearch node on 127.0.0.1,
# lint and type-check, then run the whole pytest suite against real services.
# Extra arguments go to pytest, e.g. scripts/test.sh -k search -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev

export REVIEWLENS_REQUIRE_ES=1
scripts/elasticsearch.sh start
trap 'scripts/elasticsearch.sh stop || true' EXIT

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
