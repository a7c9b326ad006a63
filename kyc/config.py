"""Settings: one pydantic-settings class, read from ``KYC_*`` environment variables.

Embedded defaults (SQLite and a local key file under the data directory) make
``kyc serve`` work on a fresh machine; outside ``environment=development`` the
defaults that are unsafe for production are refused by :func:`Settings.check_production`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "get_settings", "PROJECT_ROOT"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KYC_", env_file=None, extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = PROJECT_ROOT / "var"
    manifest_dir: Path = PROJECT_ROOT / "models"
    models_dir: Path | None = None  # default: <data_dir>/models
    # A folder mirroring models published at a public address (``registry = "url"`` in the
    # manifest): `kyc models fetch` copies them from here instead of downloading.
    models_mirror: Path | None = None
    database_url: str | None = None  # default: sqlite:///<data_dir>/kyc.db
    key_file: Path | None = None  # default: <data_dir>/kek.key

    host: str = "127.0.0.1"
    port: int = 8000

    # onnxruntime execution provider: auto = CUDA when present, else CPU.
    onnx_provider: Literal["auto", "cpu", "cuda"] = "auto"
    onnx_threads: int = 0  # 0 = onnxruntime's default
    onnx_spin: bool = False  # let idle onnxruntime threads busy-wait (only on a CPU of one's own)

    # --- uploads ---
    max_upload_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(default=50_000_000, ge=10_000)
    min_image_side: int = Field(default=64, ge=16)

    # --- documents ---
    ocr_engine: Literal["rapidocr", "tesseract"] = "rapidocr"

    # --- verification service, vault, consent, audit (issue 5) ---
    # Key-encryption key(s) from the environment, base64, comma-separated, current first;
    # when unset the key file (``key_file``) is used. Never logged.
    kek: SecretStr | None = None
    verification_workers: int = Field(default=2, ge=1, le=64)
    verification_queue: int = Field(default=32, ge=1)  # waiting verifications before rate_limited
    engine_workers: int = Field(default=2, ge=1, le=64)  # threads decoding images and running engines
    engine_queue: int = Field(default=8, ge=0)  # calls that may wait for one; more get service_busy
    liveness_max_frames: int = Field(default=450, ge=4, le=2000)  # frames per upload (30 s at 15 fps)
    liveness_max_frames_bytes: int = Field(default=40 * 1024 * 1024, ge=1024)  # all frames together
    liveness_max_frame_pixels: int = Field(default=4_000_000, ge=10_000)  # per frame, from its header
    verification_deadline_s: float = Field(default=30.0, gt=0)
    retention_hours: float = Field(default=72.0, gt=0)  # retained review images live this long
    purge_interval_s: float = Field(default=600.0, gt=0)  # periodic purge task in the service
    decision_rules_file: Path | None = None  # TOML overriding kyc.verification.decision defaults
    rate_limit_per_minute: int = Field(default=600, ge=1)  # per API key, in any 60 s
    auth_failures_per_minute: int = Field(default=30, ge=1)  # wrong/missing keys per client address
    anonymous_per_minute: int = Field(default=120, ge=1)  # calls to public routes per client address
    # duplicate_identity: the same ID number approved for another subject of the same
    # client ("client"), or of any client ("all_clients": tells a client about others' users).
    duplicate_scope: Literal["client", "all_clients"] = "client"
    subject_failure_limit: int = Field(default=5, ge=1)  # failed verifications per subject ...
    subject_failure_window_s: int = Field(default=3600, ge=1)  # ... within this window
    bootstrap_api_key: bool = True  # development only: create a first key in <data_dir>/dev-api-key

    # --- admin review console (issue 6) ---
    # Session cookies are Secure by default. Chromium and Firefox treat http://127.0.0.1 and
    # http://localhost as secure contexts, so local development over plain http still works;
    # turn this off only to reach a dev console by another host name over plain http.
    admin_cookie_secure: bool = True
    admin_session_idle_minutes: float = Field(default=30.0, gt=0)  # signed out after this long idle
    admin_session_max_hours: float = Field(default=12.0, gt=0)  # and after this long in any case
    admin_lockout_threshold: int = Field(default=5, ge=1)  # failed sign-ins in a row before backoff ...
    admin_lockout_minutes: float = Field(default=15.0, gt=0)  # (unused since issue 9: backoff, not a lock)
    admin_backoff_base_s: float = Field(default=2.0, gt=0)  # ... first wait, doubling per further failure
    admin_backoff_max_s: float = Field(default=60.0, gt=0)  # ... up to this
    admin_sign_in_per_address_per_minute: int = Field(default=10, ge=1)  # attempts per client address
    admin_page_size: int = Field(default=25, ge=1, le=500)  # rows per page in the queue and audit log
    webhook_timeout_s: float = Field(default=5.0, gt=0)  # per delivery attempt
    webhook_max_attempts: int = Field(default=6, ge=1, le=20)  # then the delivery is marked failed
    webhook_backoff_s: float = Field(default=2.0, gt=0)  # first retry delay; doubles each attempt
    webhook_poll_s: float = Field(default=5.0, gt=0)  # how often the dispatcher looks for due deliveries

    # --- liveness (issue 4) ---
    liveness_max_video_bytes: int = Field(default=40 * 1024 * 1024, ge=1024)
    liveness_session_ttl_s: float = Field(default=120.0, ge=10.0, le=3600.0)
    liveness_sessions_per_client: int = Field(default=50, ge=1)  # open sessions per client within one TTL

    # --- capture flow (issue 14) ---
    capture_session_ttl_s: float = Field(default=900.0, ge=60.0, le=86400.0)  # a capture URL's life
    capture_rate_limit_per_minute: int = Field(default=60, ge=1)  # requests per capture token
    capture_liveness_attempts: int = Field(default=3, ge=1, le=10)  # challenges per capture session
    capture_public_url: str | None = None  # base of the URLs handed out (default: the request's own)

    # --- fleet (issue 13): shared state, task queue, async results ---
    redis_url: str | None = None  # shared state (rate limits, idempotency, sessions); memory when unset
    redis_prefix: str = "kyc:"  # key prefix in Redis (several deployments or tests in one database)
    broker_url: str | None = None  # Celery broker (amqp://… or redis://…); in-process when unset
    queue_prefix: str = "kyc"  # queue names are <prefix>.verify, <prefix>.ocr, …
    job_result_ttl_s: float = Field(default=3600.0, gt=0)  # a queued job's outcome is kept this long
    broker_visibility_timeout_s: float = Field(default=60.0, gt=0)  # Redis broker: redeliver an unacked job after
    broker_retry_after_s: int = Field(default=5, ge=1)  # Retry-After when the queue is unreachable
    engines_factory: str | None = None  # "module:function" giving the Engines (tests; custom engines)

    # --- privacy mechanisms (issue 15) ---
    # The personal-information controller named on every consent receipt (PIPL / ISO/IEC 29184).
    controller_name: str = "kyc service operator"
    controller_contact: str = "privacy@example.invalid"
    privacy_policy_url: str | None = None
    # Residency: where personal data must stay, and the hosts/networks (names, IPs, CIDRs) the
    # operator declares to be inside it. Loopback and local files are always inside.
    jurisdiction: str = Field(default="CN", min_length=2, max_length=8)
    # Comma-separated in the environment (``KYC_RESIDENCY_ALLOWED_HOSTS=db.internal,10.1.0.0/16``).
    residency_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]  # private networks
    )
    # Hosts known to be outside the jurisdiction: webhook deliveries about a subject go there
    # only when the subject's consent holds the ``cross_border_transfer`` purpose.
    residency_cross_border_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Verification results (encrypted fields, template, masked fields) are erased this many days
    # after the verification, and the recipients told (``subject.deleted``); unset keeps them
    # until the subject is deleted or the consent withdrawn.
    result_retention_days: float | None = Field(default=None, gt=0)

    @field_validator("residency_allowed_hosts", "residency_cross_border_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

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
