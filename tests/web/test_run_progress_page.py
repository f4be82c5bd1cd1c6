"""The run page as the server renders it: the whole run's bar and ETA from the stored
progress, and the run's real time once it has ended (never "0 s left")."""

from __future__ import annotations

from bs4 import BeautifulSoup

from app.runs.emit import EventLog


def stored(client, run_id: str, events: list[dict], final: dict | None) -> None:
    store = client.app.state.runs.store
    store.create_run(run_id, "kd", {"epochs": 1}, "127.0.0.1", 1.0)
    log = EventLog()
    store.append_events(run_id, log.add(events), log.progress)
    if final is not None:
        store.finish(run_id, "succeeded", log.finish(final), summary=None,
                     progress=log.progress)


def bar(client, run_id: str, lang: str = "zh") -> tuple[float, str]:
    soup = BeautifulSoup(client.get(f"/runs/{run_id}?lang={lang}").text, "html.parser")
    label = " ".join(soup.select_one("#run-progress-label").get_text(" ").split())
    return float(soup.select_one("#run-progress")["value"]), label


PHASE = {"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 4,
         "run_steps": 4, "t": 10.0}


def step(i: int, t: float) -> dict:
    return {"type": "metric", "kind": "step", "phase": "train", "epoch": 1, "step": i,
            "steps": 4, "t": t}


def test_a_running_run_shows_the_whole_runs_eta(client):
    stored(client, "prog00000001", [PHASE, step(1, 12.0)], None)
    value, label = bar(client, "prog00000001")
    assert value == 2 / 8  # 2 s done, 6 s left (3 steps at 2 s)
    assert label.endswith("· 全程预计还需 6 秒")
    assert bar(client, "prog00000001", "en")[1].endswith("· about 6 s left for the whole run")


def test_an_ended_run_shows_its_real_time_and_a_full_bar(client):
    stored(client, "prog00000002", [PHASE, *(step(i, 10.0 + 2 * i) for i in range(1, 5))],
           {"type": "done", "t": 19.4})
    value, label = bar(client, "prog00000002")
    assert value == 1 and label == "全程用时 9 秒"
    assert "预计" not in label and "0 秒" not in label


def test_an_unpriced_run_says_the_time_is_unknown(client):
    teacher = {"type": "phase", "phase": "teacher", "state": "start", "epochs": 1,
               "steps": 10, "run_steps": 4, "t": 10.0}
    stored(client, "prog00000003", [teacher], None)
    assert bar(client, "prog00000003")[1].endswith("· 剩余时间未知")
