#!/usr/bin/env bash
# Set up a fresh Debian machine (or refresh this one) for ReviewLens.
#   scripts/setup.sh          the app: system packages for OCR, a venv with the locked packages
#   scripts/setup.sh --dev    also what the tests need: Chromium for browser tests, docker-compose
#                             to check the compose files
# Idempotent: a second run installs nothing new and takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in tesseract-ocr tesseract-ocr-eng fonts-dejavu-core; do have "$pkg" || need+=("$pkg"); done
if ((dev)); then
  for pkg in chromium docker-compose unzip maven; do have "$pkg" || need+=("$pkg"); done
fi
if ((${#need[@]})); then
  echo "setup: installing system packages: ${need[*]}"
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if ! command -v uv >/dev/null 2>&1; then
  "$PY" -m pip install -q --disable-pip-version-check uv
fi
if [[ ! -x .venv/bin/python ]]; then
  uv venv -q .venv --python "$PY"
fi
uv pip install -q --python .venv/bin/python -r requirements.lock
uv pip install -q --python .venv/bin/python --no-deps -e .
echo "setup: ready ($(.venv/bin/python --version), $(.venv/bin/reviewlens --version))"
