"""The one place every knob lives. Each field is read from the environment
variable of the same name in upper case (``NOTES_DIR``, ``PORT``...)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
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
    run_token: str | None = Field(
        None, description="When set, launching and cancelling runs needs this token."
    )

    @property
    def db_path(self) -> Path:
        return self.data_dir / "runs.sqlite3"


@lru_cache
def get_settings() -> Settings:
    return Settings()
