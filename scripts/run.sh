#!/usr/bin/env bash
# The main job on the embedded default: set up, ingest the sample corpus, serve the API and web
# pages at http://127.0.0.1:8000 (Ctrl-C to stop). Data goes to ./data unless REVIEWLENS_DATA_DIR says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/reviewlens ingest corpus/
exec .venv/bin/reviewlens serve --host "${REVIEWLENS_HOST:-127.0.0.1}" --port "${REVIEWLENS_PORT:-8000}"
