"""All configuration, in one object, from `REVIEWLENS_*` environment variables.

Defaults run the embedded mode on a laptop with nothing else installed: SQLite in `./data`,
no API keys (so the server only listens on loopback), the bundled taxonomy.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_TAXONOMY = PACKAGE_ROOT.parent / "nlp" / "taxonomy.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEWLENS_", extra="ignore")

    data_dir: Path = Path("data")
    search_backend: Literal["sqlite", "elasticsearch"] = "sqlite"
    elasticsearch_url: str = "http://127.0.0.1:9200"
    elasticsearch_index_prefix: str = "reviewlens"
    elasticsearch_timeout_s: float = 10.0
    # new indices only; a cluster wants more shards and a replica (docker-compose.cluster.yml)
    elasticsearch_shards: int = 1
    elasticsearch_replicas: int = 0
    taxonomy_path: Path = DEFAULT_TAXONOMY
    # "role:key,role:key"; roles are reader, uploader, admin
    api_keys: str = Field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    # limits that keep one bad file from hurting anyone else
    max_upload_bytes: int = 100 * 1024 * 1024
    max_pages: int = 2000
    max_unzipped_bytes: int = 300 * 1024 * 1024
    extract_timeout_s: float = 120.0
    extract_memory_mb: int = 1536
    # per API key (or address without one); 0 turns a limit off
    rate_limit_uploads_per_minute: int = 120
    rate_limit_searches_per_minute: int = 600
    ocr: bool = True
    ocr_language: str = "eng"
    workers: int = 0  # 0: one per core
    log_level: str = "INFO"

    @field_validator("data_dir", "taxonomy_path")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    def parsed_api_keys(self) -> dict[str, str]:
        """Key -> role. Malformed entries are an error, not silently dropped."""
        keys: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in self.api_keys.split(","))):
            role, sep, key = item.partition(":")
            if not sep or role not in {"reader", "uploader", "admin"} or not key:
                raise ValueError(
                    "REVIEWLENS_API_KEYS entries must be role:key with role reader, uploader "
                    "or admin"
                )
            keys[key] = role
        return keys


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
