"""The demo panel and the method page say which teachers are cached here and what a
first run costs (the recorded teacher time, or unknown), and what the reference
table's times were measured with."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.distill.methods import METHODS
from app.distill.teacher_cache import (
    cache_path,
    plain_teacher,
    record_cost,
    teacher_cost_key,
    teacher_key,
)
from app.main import create_app
from app.settings import Settings
from app.web.reproduction import reference

KD_PAPER = "/papers/1503.02531"


@pytest.fixture()
def served(seed_notes, tmp_path):
    data = tmp_path / "data"
    settings = Settings(notes_dir=seed_notes, data_dir=data, notes_poll_interval=0)
    with TestClient(create_app(settings)) as client:
        yield client, data


def first_run(client, url: str, method: str = "kd") -> str:
    soup = BeautifulSoup(client.get(url).text, "html.parser")
    scope = soup.select_one(f"#method-{method}") or soup
    node = scope.select_one(".first-run")
    return "" if node is None else " ".join(node.get_text(" ").split())


def cache(data, seeds):
    teacher = plain_teacher(METHODS["kd"].params())[0]
    for seed in seeds:
        path = cache_path(data, teacher_key(teacher, seed))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"weights")
    return teacher


def test_a_fresh_server_says_a_first_run_trains_every_teacher_in_unknown_time(served):
    client, _ = served
    text = first_run(client, KD_PAPER)
    assert "默认 5 个种子的教师已缓存 0 个" in text
    assert "首次运行要先训练 5 个教师，用时未知" in text
    english = first_run(client, KD_PAPER + "?lang=en")
    assert "0 of the 5 default seeds' teachers are cached" in english
    assert "A first run trains 5 teachers first, time unknown" in english


def test_the_recorded_teacher_time_prices_the_missing_seeds(served):
    client, data = served
    teacher = cache(data, [0, 1])
    record_cost(data, teacher_cost_key(teacher), 30.0, 3, "cpu", 2)  # 10 s a teacher
    text = first_run(client, KD_PAPER)
    assert "已缓存 2 个" in text
    assert "首次运行要先训练 3 个教师：按本服务器上次的记录约 30.0 秒（cpu，2 个线程）" in text
    # The method page says the same.
    assert "约 30.0 秒" in first_run(client, "/methods/kd")
    cache(data, [2, 3, 4])
    assert "运行不必再训练教师" in first_run(client, KD_PAPER)


def test_a_method_without_a_teacher_says_nothing_of_one(served):
    client, _ = served
    assert first_run(client, "/methods/lsr") == ""
    assert "教师" in first_run(client, "/methods/ls_teacher")  # two teachers, both named
    assert "标签平滑的教师" in first_run(client, "/methods/ls_teacher")


def test_the_reference_times_say_what_they_were_measured_with(served):
    client, _ = served
    measured = reference().measured
    assert measured.machine and measured.threads
    soup = BeautifulSoup(client.get(KD_PAPER).text, "html.parser")
    note = " ".join(soup.select_one("#method-kd .wall-note").get_text(" ").split())
    assert "教师已缓存" in note and measured.machine in note
    assert f"{measured.threads} 个线程" in note
    english = BeautifulSoup(client.get(KD_PAPER + "?lang=en").text, "html.parser")
    assert "its teachers already cached" in english.select_one("#method-kd .wall-note").text
