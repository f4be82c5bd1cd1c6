"""Secrets from files: RUN_TOKEN_FILE and RUN_STORE_PASSWORD_FILE (Docker secrets)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_the_run_token_comes_from_its_file(tmp_path, monkeypatch):
    secret = tmp_path / "run_token"
    secret.write_text("s3cret-token\n")
    monkeypatch.setenv("RUN_TOKEN_FILE", str(secret))
    assert Settings().run_token == "s3cret-token"


def test_the_database_password_goes_into_the_url(tmp_path):
    secret = tmp_path / "pg_password"
    secret.write_text("p@ss/word\n")
    settings = Settings(run_store_url="postgresql://kd@db:5432/kd?sslmode=disable",
                        run_store_password_file=secret)  # fmt: skip
    assert settings.store_url == "postgresql://kd:p%40ss%2Fword@db:5432/kd?sslmode=disable"
    import psycopg.conninfo

    info = psycopg.conninfo.conninfo_to_dict(settings.store_url)
    assert info["password"] == "p@ss/word" and info["user"] == "kd" and info["host"] == "db"


@pytest.mark.parametrize("content", [None, ""])
def test_a_missing_or_empty_secret_file_is_a_clear_error(tmp_path, content):
    secret = tmp_path / "run_token"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(ValidationError, match=r"RUN_TOKEN_FILE: .*(can.t read|is empty)"):
        Settings(run_token_file=secret)


def test_a_password_file_needs_a_postgres_url(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("x")
    with pytest.raises(ValidationError, match="needs a postgresql://"):
        Settings(run_store_password_file=secret)


def test_ray_trainers_get_the_url_without_the_password_and_read_their_own_copy(tmp_path):
    """An actor's arguments are kept in Ray's control store: the password stays out."""
    pytest.importorskip("ray")
    from app.runs.ray_executor import trainer_store
    from app.settings import url_with_password_from

    secret = tmp_path / "pg_password"
    secret.write_text("p@ss\n")
    settings = Settings(run_store_url="postgresql://kd@db:5432/kd", run_executor="ray",
                        run_store_password_file=secret)  # fmt: skip
    url, password_file = trainer_store(settings)
    assert url == "postgresql://kd@db:5432/kd" and "p%40ss" not in url
    assert url_with_password_from(url, password_file) == settings.store_url
    plain = Settings(run_store_url="postgresql://kd:pw@db/kd", run_executor="ray")
    assert trainer_store(plain) == ("postgresql://kd:pw@db/kd", None)
