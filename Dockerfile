# ReviewLens API and web pages, for docker-compose.yml. Runs as an unprivileged user; data
# (kept originals, jobs, the embedded index if used) lives in the /data volume.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# OCR for scanned pages; fonts for exported charts
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# the locked dependencies first, so code changes do not reinstall them
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md ./
COPY reviewlens ./reviewlens
COPY ingest ./ingest
COPY nlp ./nlp
COPY search_api ./search_api
RUN pip install --no-deps .

RUN useradd --system --create-home --home-dir /home/reviewlens reviewlens \
    && mkdir -p /data && chown reviewlens:reviewlens /data
USER reviewlens
ENV REVIEWLENS_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"

# binding beyond loopback needs REVIEWLENS_API_KEYS; the server refuses otherwise
CMD ["reviewlens", "serve", "--host", "0.0.0.0", "--port", "8000"]
