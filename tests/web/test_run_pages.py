"""The demo pages: the paper page's panel, a run's page and the history, served
in-process over a real run service (real worker, tiny parameters)."""

from __future__ import annotations

import json
import re
import time

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from support.pages import wait_finished

from app.distill.methods import METHODS
from app.distill.params import SPLIT_TEXT
from app.distill.stats import VERDICTS, arm_stats, paired_stats, t_quantile
from app.main import create_app
from app.settings import Settings
from app.web import reproduction, run_pages

HTML = {"accept": "text/html"}
TINY = {"epochs": 1, "train_fraction": 0.05, "batch_size": 64, "seeds": 2}


@pytest.fixture(scope="module")
def demo_client(seed_notes, tmp_path_factory):
    settings = Settings(notes_dir=seed_notes, data_dir=tmp_path_factory.mktemp("demo-data"))
    with TestClient(create_app(settings)) as client:
        yield client


def soup_of(client, url, status=200, lang=None):
    # The language by Accept-Language: a ?lang= would stay in the module's client's cookie.
    headers = HTML if lang is None else {**HTML, "accept-language": lang}
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def facts_of(soup) -> dict[str, str]:
    """The run page's result facts by key; the accuracies, one per model, joined."""
    facts: dict[str, str] = {}
    for div in soup.select("#summary-facts > div"):
        text = div.dd.get_text(" ", strip=True)
        key = div["data-key"]
        facts[key] = f"{facts[key]} | {text}" if key in facts else text
    return facts


def test_tfkd_paper_offers_its_three_methods_with_forms(demo_client):
    soup = soup_of(demo_client, "/papers/1909.11723")
    forms = soup.select("#demo form.run-form")
    assert sorted(f["data-method"] for f in forms) == ["lsr", "tfkd_reg", "tfkd_self"]
    form = soup.select_one('form[data-method="tfkd_reg"]')
    assert form["action"] == "/api/runs" and form["method"] == "post"
    temperature = form.select_one('input[name="temperature"]')
    schema = METHODS["tfkd_reg"].params.model_json_schema()["properties"]["temperature"]
    assert float(temperature["value"]) == schema["default"]
    assert float(temperature["max"]) == schema["maximum"]
    assert float(temperature["min"]) == schema["minimum"]
    baseline = form.select_one('select[name="baseline"] option[selected]')
    assert baseline["value"] == "true"


def test_every_seed_paper_has_a_demo(demo_client):
    for slug in [p["slug"] for p in demo_client.get("/api/papers").json()["papers"]]:
        soup = soup_of(demo_client, f"/papers/{slug}")
        assert soup.select("#demo form.run-form"), slug


def test_form_post_runs_and_redirects_to_the_run_page(demo_client):
    form = {"method": "kd", **{k: str(v) for k, v in TINY.items()}, "baseline": "false",
            "teacher_epochs": "1"}  # fmt: skip
    response = demo_client.post("/api/runs", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    run_url = response.headers["location"]
    run_id = run_url.rsplit("/", 1)[1]
    run = wait_finished(demo_client, run_id)
    assert run["status"] == "succeeded", run
    soup = soup_of(demo_client, run_url)
    assert soup.select_one("#run-status")["data-status"] == "succeeded"
    boot = json.loads(soup.select_one("#run-boot").string)
    assert boot["id"] == run_id and boot["summary"]["final_acc"] > 0
    assert not soup.select_one("#run-summary").has_attr("hidden")
    facts = facts_of(soup)
    assert facts["seeds"] == "0, 1（2 个）"
    assert "delta" not in facts  # no baseline, no difference
    assert [td.get_text() for td in soup.select("#summary-seeds tbody tr td")][1::3] == ["—"] * 2
    params = {tr["data-param"]: (tr.th.get_text(), tr.td.get_text())
              for tr in soup.select(".params tr[data-param]")}  # fmt: skip
    # Each parameter by its label, a boolean as a word: never `batch_size` or `False`.
    assert params["epochs"] == ("训练轮数", "1") and params["baseline"] == ("同时训练对照", "否")
    assert boot["summary"]["baseline_final_acc"] is None  # no twin was asked for

    history = soup_of(demo_client, f"/runs?compare={run_id}")
    assert run_id in [tr["data-run-id"] for tr in history.select("tr[data-run-id]")]
    assert json.loads(history.select_one("#compare-ids").string) == [run_id]


def test_tfkd_reg_run_page_carries_the_virtual_teacher(demo_client):
    response = demo_client.post(
        "/api/runs", json={"method": "tfkd_reg", "params": {**TINY, "temperature": 20}}
    )
    assert response.status_code == 202
    soup = soup_of(demo_client, response.json()["url"])
    teacher = json.loads(soup.select_one("#run-boot").string)["virtual_teacher"]
    assert len(teacher) == 10 and abs(sum(teacher) - 1) < 1e-9
    assert 0.1 < teacher[0] < 0.11  # T=20 makes the hand-made teacher nearly uniform
    wait_finished(demo_client, response.json()["id"])


def test_bad_form_post_from_a_browser_gets_a_readable_page(demo_client):
    form = {"method": "kd", "epochs": "1000"}
    response = demo_client.post("/api/runs", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code == 422
    soup = BeautifulSoup(response.text, "html.parser")
    # The field by its label, the problem in words: not pydantic's "epochs: Input should be…".
    assert soup.select_one(".error-problems").get_text(strip=True) == "训练轮数：不能大于 30。"
    # The same mistake from an API client stays JSON.
    api = demo_client.post("/api/runs", json={"method": "kd", "params": {"epochs": 1000}})
    assert api.status_code == 422 and api.json()["detail"][0]["loc"][-1] == "epochs"


def test_unknown_run_and_bad_history_filter(demo_client):
    assert "找不到页面" in soup_of(demo_client, "/runs/nope", status=404).h1.get_text()
    soup_of(demo_client, "/runs?method=nope", status=400)




# -- results of stored runs, whatever trainer wrote them ----------------------------

NEW_SUMMARY = {
    "method": "kd", "seeds": [0, 1, 2], "split": {"train": 119, "val": 269, "test": 359},
    "final_acc": 0.94, "baseline_final_acc": 0.91, "delta_acc": 0.03, "teacher_acc": 0.97,
    "models": {"student": 0.94, "baseline": 0.91, "teacher": 0.97},
    "per_seed": {
        "student": {"test_acc": [0.95, 0.93, 0.94], "best_val_test_acc": [0.95, 0.94, 0.94]},
        "baseline": {"test_acc": [0.91, 0.92, 0.90], "best_val_test_acc": [0.92, 0.92, 0.90]},
    },
    "delta": paired_stats([0.95, 0.93, 0.94], [0.91, 0.92, 0.90]).as_dict(),
    "delta_best_val": paired_stats([0.95, 0.94, 0.94], [0.92, 0.92, 0.90]).as_dict(),
    "wall_s": 8.14,
}  # fmt: skip
#: What the trainer wrote before seeds: best accuracies, no per-seed data.
OLD_SUMMARY = {
    "method": "kd", "final_acc": 0.5, "best_acc": 0.5, "baseline_final_acc": 0.4,
    "baseline_best_acc": 0.4, "delta_acc": 0.1, "teacher_acc": 0.9,
    "models": {"student": 0.5, "baseline": 0.4}, "wall_s": 1.0,
}  # fmt: skip


def stored_run(client, run_id: str, summary, status: str = "succeeded",
               final: dict | None = None) -> None:
    """A finished run put straight into the app's store, as an older server may have."""
    store = client.app.state.runs.store
    store.create_run(run_id, "kd", {"epochs": 1}, "127.0.0.1", time.time())
    store.finish(run_id, status, final or {"type": "done", "summary": summary}, summary=summary)


def test_run_page_shows_the_paired_result_and_the_seeds(demo_client):
    stored_run(demo_client, "new000000001", NEW_SUMMARY)
    soup = soup_of(demo_client, "/runs/new000000001")
    facts = facts_of(soup)
    assert facts["seeds"] == "0, 1, 2（3 个）"
    assert facts["split"] == "训练 119 · 验证 269 · 测试 359"
    assert facts["acc"] == "94.00% | 91.00%"  # student, baseline; the teacher has its own
    assert facts["teacher"] == "97.00%" and facts["wall"] == "8.1 秒"
    delta = NEW_SUMMARY["delta"]
    assert facts["delta"].startswith(f"{delta['mean'] * 100:+.2f} 个百分点")
    assert f"[{delta['ci_low'] * 100:+.2f}, {delta['ci_high'] * 100:+.2f}]" in facts["delta"]
    assert "胜/平/负 3/0/0" in facts["delta"]
    verdict = soup.select_one('[data-key="delta"] .verdict')
    assert verdict.get_text() == delta["label_zh"]
    english = soup_of(demo_client, "/runs/new000000001", lang="en")
    assert english.select_one('[data-key="delta"] .verdict').get_text() == delta["label_en"]
    assert facts_of(english)["wall"] == "8.1 s"
    best = soup.select_one('[data-key="delta_best_val"]')
    assert best.dt.get_text() == "差值 Δ（每个种子取验证集最佳轮次时的测试准确率）"
    assert best.select_one(".verdict").get_text() == NEW_SUMMARY["delta_best_val"]["label_zh"]
    rows = [[c.get_text() for c in tr.select("th, td")]
            for tr in soup.select("#summary-seeds tbody tr")]  # fmt: skip
    assert rows == [["0", "95.00%", "91.00%", "+4.00"], ["1", "93.00%", "92.00%", "+1.00"],
                    ["2", "94.00%", "90.00%", "+4.00"]]  # fmt: skip


def test_run_page_of_an_older_or_broken_summary_still_renders(demo_client):
    stored_run(demo_client, "old000000001", OLD_SUMMARY)
    facts = facts_of(soup_of(demo_client, "/runs/old000000001"))
    assert facts["acc"] == "50.00% | 40.00%" and facts["delta"] == "+10.00 个百分点"
    assert "seeds" not in facts and "delta_best_val" not in facts
    broken = {"final_acc": None, "seeds": "x", "split": [1], "per_seed": {"student": 3},
              "delta": {"mean": None}, "models": {"student": "?"}, "wall_s": float("inf")}
    # No trainer wrote it (its done event could not have carried it): damaged in the
    # store. What reads is shown; the rest is left out.
    stored_run(demo_client, "bad000000001", broken, final={"type": "done"})
    soup = soup_of(demo_client, "/runs/bad000000001")
    assert facts_of(soup) == {"teacher": "—", "wall": "—"}
    assert soup.select_one("#summary-seeds") is None


def test_history_and_compare_show_mean_accuracies_delta_and_verdict(demo_client):
    stored_run(demo_client, "new000000002", NEW_SUMMARY)
    stored_run(demo_client, "old000000002", OLD_SUMMARY)
    label = NEW_SUMMARY["delta"]["label_zh"]
    pages = {
        "table.runs-table": "/runs",
        # The old overlay link leads to the compare page.
        "table.compared-runs": "/runs?compare=new000000002&compare=old000000002",
    }
    for table, url in pages.items():
        soup = soup_of(demo_client, url)
        cells = {tr.a.get_text(): [td.get_text(strip=True) for td in tr.select("td")]
                 for tr in soup.select(f"{table} tbody tr")}  # fmt: skip
        assert cells["new000000002"][-4:] == ["94.00%", "91.00%", "+3.00", label], table
        assert cells["old000000002"][-4:] == ["50.00%", "40.00%", "+10.00", ""], table


# -- the demo panel: split, controls, reproduction -----------------------------------

def _paired(deltas: list[float]) -> dict:
    return paired_stats([0.9 + d for d in deltas], [0.9] * len(deltas)).as_dict()


def _arm(values: list[float]) -> dict:
    return arm_stats(values)


REPRODUCTION = {
    "seeds": [0, 1, 2, 3],
    "methods": {
        "kd": {
            "method": "kd", "label": "kd", "over": {},
            "student": _arm([0.95, 0.94, 0.96, 0.95]), "baseline": _arm([0.92, 0.91, 0.93, 0.92]),
            "delta": _paired([0.03, 0.03, 0.03, 0.03]), "delta_best_val": _paired([0.02] * 4),
            "wall_s": {"mean": 2.54, "sd": 0.1, "n": 4, "values": [2.4, 2.5, 2.6, 2.6]},
            "note": "Student sees 10% of the training digits.",
        },
        "baseline": {
            "method": "baseline", "label": "baseline", "over": {},
            "student": _arm([0.92, 0.91, 0.93, 0.92]), "baseline": None, "delta": None,
            "delta_best_val": None, "wall_s": {"mean": 0.8}, "note": "",
        },
        "lsr": {"method": "lsr", "label": "lsr", "student": {"mean": 0.9}},  # no sd, no n
    },
    "variants": [
        {
            "method": "kd", "label": "kd (train_fraction=1.0)", "over": {"train_fraction": 1.0},
            "student": _arm([0.98, 0.98, 0.99, 0.98]), "baseline": _arm([0.98, 0.99, 0.98, 0.98]),
            "delta": _paired([0.0, -0.01, 0.01, 0.0]), "delta_best_val": None,
            "wall_s": {"mean": 9.0}, "note": "",
        },
        "not a row",
    ],
}  # fmt: skip


@pytest.fixture
def reproduction_file(tmp_path, monkeypatch):
    """Point the panel at a file of the test's own, and forget what was read before."""
    path = tmp_path / "reproduction.json"
    monkeypatch.setattr(reproduction, "REPRODUCTION_JSON", path)
    reproduction.reference.cache_clear()
    yield path
    reproduction.reference.cache_clear()


def repro_rows(client, method_id: str, slug: str) -> list[list[str]]:
    soup = soup_of(client, f"/papers/{slug}")
    return [[c.get_text(" ", strip=True) for c in tr.select("th, td")]
            for tr in soup.select(f"#method-{method_id} table.repro tbody tr")]  # fmt: skip


def test_panel_shows_each_methods_default_row_and_its_variants(demo_client, reproduction_file):
    reproduction_file.write_text(json.dumps(REPRODUCTION), encoding="utf-8")
    kd, variant = repro_rows(demo_client, "kd", "1503.02531")
    delta = REPRODUCTION["methods"]["kd"]["delta"]
    # The note is not the one the tables translate: shown as the benchmark wrote it.
    assert kd[:7] == [
        "默认参数 Student sees 10% of the training digits.", "95.0 ± 0.8", "92.0 ± 0.8",
        "+3.0 ± 0.0", f"[{delta['ci_low'] * 100:+.1f}, {delta['ci_high'] * 100:+.1f}]",
        "4/0/0", delta["label_zh"],
    ]  # fmt: skip
    assert kd[7] == "2.5 s"
    assert variant[0] == "训练数据比例 = 1.0" and variant[3] == "+0.0 ± 0.8"
    assert variant[5:7] == ["1/2/1", "此规模下无明显差异"]
    soup = soup_of(demo_client, "/papers/1503.02531")
    assert "4 个种子" in soup.select_one("#method-kd table.repro caption").get_text()
    english = soup_of(demo_client, "/papers/1503.02531", lang="en")
    assert english.select_one("#method-kd .verdict").get_text() == delta["label_en"]
    # A row without the new fields is left out, not shown half-empty.
    assert repro_rows(demo_client, "lsr", "1909.11723") == []


@pytest.mark.parametrize("content", [
    json.dumps({"meta": {"seeds": [0, 1]}, "methods": {"kd": {
        "method": "kd", "label": "kd", "student": {"mean": 0.9, "std": 0.01, "runs": [0.9]},
        "baseline": {"mean": 0.8, "std": 0.0, "runs": [0.8]}, "delta": 0.1, "verdict": "beats"}}}),
    json.dumps([1, 2]),
    json.dumps({"methods": [1], "variants": {"kd": 1}}),
    "{not json",
])  # fmt: skip
def test_a_reproduction_file_of_another_shape_shows_no_rows(demo_client, reproduction_file,
                                                           content):
    reproduction_file.write_text(content, encoding="utf-8")
    assert repro_rows(demo_client, "kd", "1503.02531") == []


def test_a_missing_reproduction_file_shows_no_rows(demo_client, reproduction_file):
    assert repro_rows(demo_client, "kd", "1503.02531") == []


def test_panel_states_the_split_and_every_methods_control(demo_client):
    soup = soup_of(demo_client, "/papers/1909.11723")
    split = soup.select_one("#demo-split")
    assert split.get_text() == run_pages.SPLIT_TEXT_ZH
    english = soup_of(demo_client, "/papers/1909.11723", lang="en")
    assert english.select_one("#demo-split").get_text() == SPLIT_TEXT
    for method_id in ("lsr", "tfkd_reg", "tfkd_self"):
        text = soup.select_one(f"#method-{method_id}").get_text(" ")
        assert METHODS[method_id].control_zh in text
        panel = english.select_one(f"#method-{method_id}")
        assert METHODS[method_id].control_en in panel.get_text(" ")


def test_the_chinese_split_says_what_the_english_one_says():
    def numbers(text: str) -> list[str]:
        return re.findall(r"\d[\d,]*%?", text)

    assert numbers(run_pages.SPLIT_TEXT_ZH) == ["359", "20%", "269", "15%", "1,169"]
    assert set(numbers(run_pages.SPLIT_TEXT_ZH)) <= set(numbers(SPLIT_TEXT))


# -- the run page's live verdict: what the page gets to compute it -----------------


def test_run_page_boot_carries_the_t_table_and_the_verdict_words(demo_client):
    stored_run(demo_client, "boot00000001", NEW_SUMMARY)
    soup = soup_of(demo_client, "/runs/boot00000001")
    boot = json.loads(soup.select_one("#run-boot").string)
    # One t quantile for the page and the server: t_{0.975, df} for every df a run of
    # 2..8 seeds can have, index df - 1.
    max_seeds = METHODS["kd"].params.model_json_schema()["properties"]["seeds"]["maximum"]
    assert len(boot["t975"]) == max_seeds - 1
    for df, value in enumerate(boot["t975"], start=1):
        assert value == pytest.approx(t_quantile(0.975, df), rel=1e-12)
    assert boot["t975"][0] == pytest.approx(12.7062047, rel=1e-6)  # the textbook value
    # Each verdict in the page's language: VERDICTS says [en, zh].
    assert boot["verdicts"] == {key: labels[1] for key, labels in VERDICTS.items()}
    # The live interval the page computes with it is the server's paired_stats interval.
    deltas = NEW_SUMMARY["delta"]["deltas"]
    n = len(deltas)
    mean = sum(deltas) / n
    sd = (sum((d - mean) ** 2 for d in deltas) / (n - 1)) ** 0.5
    half = boot["t975"][n - 2] * sd / n**0.5
    assert mean - half == pytest.approx(NEW_SUMMARY["delta"]["ci_low"])
    assert mean + half == pytest.approx(NEW_SUMMARY["delta"]["ci_high"])
    assert soup.select_one("#verdict-box").has_attr("hidden")  # run.js fills it


def test_run_page_links_the_methods_papers(demo_client):
    stored_run(demo_client, "link00000001", NEW_SUMMARY)  # a kd run
    links = soup_of(demo_client, "/runs/link00000001").select(".run-papers a")
    assert [a["href"] for a in links] == ["/papers/1503.02531"]
    assert links[0].get_text().strip()
    # The link leads to a paper page that offers the same method.
    assert soup_of(demo_client, "/papers/1503.02531").select('form[data-method="kd"]')
