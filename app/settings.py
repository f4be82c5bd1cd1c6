"""The one place every knob lives. Each field is read from the environment
variable of the same name in upper case (``NOTES_DIR``, ``PORT``...)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import PROJECT_ROOT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    notes_dir: Path = Field(PROJECT_ROOT / "notes", description="Folder of Markdown notes (*.md).")
    data_dir: Path = Field(
        PROJECT_ROOT / "data", description="Run database and teacher checkpoints."
    )
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the server listens on.")
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="The site's address for absolute links (the Atom feed); "
        "unset: taken from each request's Host header.",
    )
    site_title: str | None = Field(
        None,
        description="The site's name in the header, page titles and feed; "
        "unset: the notes' own top heading (`# 论文阅读笔记`).",
    )
    root_path: str = Field(
        "", pattern=r"^(/[A-Za-z0-9._~-]+)*$",
        description="The sub-path the app is served under behind a proxy (`/kd`): "
        "every link, fetch and event stream, and the OpenAPI page, carry it. The proxy "
        "may strip it (Caddy's handle_path) or pass it on.",
    )
    metrics_enabled: bool = Field(
        False, description="Serve /metrics in the Prometheus text format (needs the "
        "`metrics` extra). Off by default: expose it only where the operator scrapes it.",
    )
    author_mode: bool = Field(
        False, description="The notes' author at work: every page shows a banner with the "
        "notes' diagnostics (file:line). Never on a public site.",
    )
    live_reload: bool = Field(
        True, description="Open catalog and paper pages reload themselves when the notes "
        "they show change (one small event stream per open page).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    notes_poll_interval: float = Field(
        1.0, ge=0, description="Seconds between checks of notes/ for edits (0: every request)."
    )

    # Demo runs
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where demos train: auto takes CUDA when present."
    )
    # One thread by default: these models are tiny, and on a busy machine torch's
    # default (one per core) ran them 40-50x slower than a single thread did.
    torch_threads: int = Field(
        1, ge=0, le=64, description="Threads per worker (0: torch's default)."
    )
    run_concurrency: int = Field(1, ge=1, le=16, description="Runs that train at the same time.")
    run_queue_size: int = Field(16, ge=0, le=1000, description="Runs that may wait in the queue.")
    run_queue_per_client: int = Field(
        4, ge=1, le=1000, description="Queued or running runs one client may hold."
    )
    run_warm_workers: int = Field(
        1, ge=0, le=4, description="Idle workers kept with torch imported, so runs start at once."
    )
    run_target: str = Field(
        "app.distill.trainer:train",
        description="What a worker calls to train, as module:function (tests and "
        "benchmarks name stand-ins with the same signature).",
    )
    run_token: str | None = Field(
        None, description="When set, launching and cancelling runs needs this token."
    )
    # Secrets from files (Docker and Compose secrets, /run/secrets/...), so that they
    # never show in `docker inspect` or a process's environment.
    run_token_file: Path | None = Field(
        None, description="A file holding RUN_TOKEN (its first line); wins over RUN_TOKEN."
    )
    run_store_password_file: Path | None = Field(
        None, description="A file holding the password of RUN_STORE_URL's database user, "
        "put into the URL at start-up (or use libpq's ?passfile=).",
    )

    # Retention: a public demo site keeps a reader's run for weeks (its link in a
    # chat or a note keeps working), but not forever. 0 and 0 keep everything.
    run_retention_days: float = Field(
        30, ge=0, description="Finished runs older than this are deleted (0: keep any age)."
    )
    run_max_stored: int = Field(
        2000, ge=0, description="At most this many runs are kept, oldest finished ones "
        "deleted first (0: no cap). Queued and running runs are never deleted.",
    )

    # Scaling out (see README, "Scaling out")
    run_store_url: str | None = Field(
        None, description="Where runs and events live: unset for the SQLite file under "
        "DATA_DIR, or postgresql://user:pass@host/db (needs the `scale` extra).",
    )
    run_executor: Literal["local", "ray"] = Field(
        "local", description="Where runs train: spawned local workers, or a Ray cluster."
    )
    ray_address: str | None = Field(
        None, description="The Ray cluster to join (ray://host:10001 or host:6379); "
        "unset: RAY_ADDRESS as Ray reads it.",
    )

    ray_namespace: str = Field(
        "kd-notes", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Ray namespace of this deployment's trainer actors (one per "
        "deployment, or per test, sharing a cluster).",
    )
    ray_num_cpus: float = Field(
        1.0, gt=0, le=64, description="CPUs each Ray trainer (one training slot) asks for."
    )
    ray_num_gpus: float = Field(
        0.0, ge=0, le=8, description="GPUs each Ray trainer asks for: a fraction (0.25) lets "
        "several tiny demos share one GPU; above 0, runs train on CUDA on GPU nodes.",
    )

    @model_validator(mode="after")
    def _secrets_from_files(self) -> "Settings":
        if self.run_token_file is not None:
            self.run_token = _read_secret(self.run_token_file, "RUN_TOKEN_FILE")
        if self.run_store_password_file is not None:
            if not (self.run_store_url or "").startswith("postgres"):
                raise ValueError("RUN_STORE_PASSWORD_FILE needs a postgresql:// RUN_STORE_URL")
            self.run_store_url = url_with_password_from(self.run_store_url,
                                                        self.run_store_password_file)  # fmt: skip
        return self

    @model_validator(mode="after")
    def _shared_store_for_a_cluster(self) -> "Settings":
        if self.run_executor == "ray" and not self.store_url.startswith("postgres"):
            raise ValueError(
                "RUN_EXECUTOR=ray needs a store that every machine shares: set RUN_STORE_URL "
                "to a postgresql:// URL (a SQLite file is not shared between machines)"
            )
        return self

    @property
    def db_path(self) -> Path:
        return self.data_dir / "runs.sqlite3"

    @property
    def store_url(self) -> str:
        return self.run_store_url or str(self.db_path)


def _read_secret(path: Path, name: str) -> str:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise ValueError(f"{name}: can't read {path}: {exc.strerror}") from None
    if not text:
        raise ValueError(f"{name}: {path} is empty")
    return text.splitlines()[0].strip()


def url_with_password(url: str, password: str | None) -> str:
    """`url` with `password` as its user's (None: with none)."""
    parts = urlsplit(url)
    user = (parts.username or "") and quote(unquote(parts.username), safe="")
    secret = "" if password is None else f":{quote(password, safe='')}"
    host = parts.hostname or ""
    netloc = f"{user}{secret}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def url_with_password_from(url: str, password_file: Path | str) -> str:
    """`url` with the password that RUN_STORE_PASSWORD_FILE holds."""
    return url_with_password(url, _read_secret(Path(password_file), "RUN_STORE_PASSWORD_FILE"))


@lru_cache
def get_settings() -> Settings:
    return Settings()
