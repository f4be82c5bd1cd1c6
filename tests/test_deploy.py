"""The Compose file holds what the README promises of it (no Docker needed)."""

from __future__ import annotations

from urllib.parse import urlsplit

import yaml

from app import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def test_compose_has_the_scaled_out_topology():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "ray-head", "ray-cpu-worker", "ray-gpu-worker", "web-a", "web-b",
            "proxy"} <= set(services)  # fmt: skip
    for name in ("web-a", "web-b"):
        env = services[name]["environment"]
        assert env["RUN_EXECUTOR"] == "ray" and env["RUN_STORE_URL"].startswith("postgresql://")
        assert "RAY_AUTH_TOKEN" not in env  # a secret, not an environment value
    for name in ("ray-head", "ray-cpu-worker", "ray-gpu-worker", "web-a", "web-b"):
        assert "ray_auth_token" in services[name]["secrets"], name
        assert services[name]["environment"]["RAY_AUTH_MODE"] == "token", name
    gpu = services["ray-gpu-worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]
    assert services["ray-head"]["build"]["args"]["EXTRAS"] == "scale"


def test_the_proxy_never_buffers_event_streams():
    caddy = (DEPLOY / "Caddyfile").read_text()
    events = caddy.split("@events", 1)[1]
    assert "/api/runs/[^/]+/events" in events and "flush_interval -1" in events


def test_the_image_takes_the_scale_extra_as_a_build_argument():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert 'ARG EXTRAS=""' in dockerfile
    assert 'pip install $PIP_EXTRA_ARGS -e ".${EXTRAS:+[$EXTRAS]}"' in dockerfile


def test_compose_hands_secrets_as_files_and_checks_every_service():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for name in ("web-a", "web-b"):
        env = services[name]["environment"]
        assert env["RUN_TOKEN_FILE"] == "/run/secrets/run_token" and "RUN_TOKEN" not in env
        assert "run_token" in services[name]["secrets"]
        assert urlsplit(env["RUN_STORE_URL"]).password is None
        assert env["RUN_STORE_PASSWORD_FILE"] == "/run/secrets/pg_password"
        assert "pg_password" in services[name]["secrets"]
    for name in ("ray-cpu-worker", "ray-gpu-worker"):  # the trainers read their own copy
        assert "pg_password" in services[name]["secrets"], name
    for name in ("postgres", "ray-head", "ray-cpu-worker", "web-a", "proxy"):
        assert "healthcheck" in services[name], name
    assert services["proxy"]["ports"][0].startswith("127.0.0.1:")


def test_caddy_compresses_all_but_event_streams_under_the_root_path():
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert "handle_path {$ROOT_PATH}/*" in caddy
    assert "@compressible not path_regexp ^/api/runs/[^/]+/events$" in caddy
    assert "encode @compressible" in caddy and "respond /metrics 404" in caddy
