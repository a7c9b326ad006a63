"""Settings: one pydantic-settings class, read from ``KYC_*`` environment variables.

Embedded defaults (SQLite and a local key file under the data directory) make
``kyc serve`` work on a fresh machine; outside ``environment=development`` the
defaults that are unsafe for production are refused by :func:`Settings.check_production`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "PROJECT_ROOT"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KYC_", env_file=None, extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = PROJECT_ROOT / "var"
    manifest_dir: Path = PROJECT_ROOT / "models"
    models_dir: Path | None = None  # default: <data_dir>/models
    database_url: str | None = None  # default: sqlite:///<data_dir>/kyc.db
    key_file: Path | None = None  # default: <data_dir>/kek.key

    host: str = "127.0.0.1"
    port: int = 8000

    # onnxruntime execution provider: auto = CUDA when present, else CPU.
    onnx_provider: Literal["auto", "cpu", "cuda"] = "auto"
    onnx_threads: int = 0  # 0 = onnxruntime's default

    # --- uploads ---
    max_upload_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(default=50_000_000, ge=10_000)
    min_image_side: int = Field(default=64, ge=16)

    # --- documents ---
    ocr_engine: Literal["rapidocr", "tesseract"] = "rapidocr"

    # --- liveness (issue 4) ---
    liveness_max_video_bytes: int = Field(default=40 * 1024 * 1024, ge=1024)
    liveness_session_ttl_s: float = Field(default=120.0, ge=10.0, le=3600.0)

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'kyc.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "kek.key"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
