"""One client can't fill the queue alone: the per-client limit (RUN_QUEUE_PER_CLIENT)
refuses its next launch with 429 while others still get in, and a finished or
cancelled run gives the slot back. The full app, two client addresses, runs that
hold their slot until cancelled."""

from __future__ import annotations

from fastapi.testclient import TestClient

HTML = {"Accept": "text/html"}


def launch(client: TestClient, **extra):
    return client.post("/api/runs", json={"method": "kd", "params": {"epochs": 1}}, **extra)


def test_one_client_cannot_fill_the_queue_alone(make_app):
    app = make_app("hold", run_concurrency=1, run_queue_size=4, run_queue_per_client=2)
    with TestClient(app, client=("192.0.2.1", 50000)) as alice:
        bob = TestClient(app, client=("192.0.2.2", 50000))  # same app, same run service
        mine = [launch(alice) for _ in range(2)]
        assert [r.status_code for r in mine] == [202, 202]
        refused = launch(alice)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "at most 2" in refused.json()["detail"]
        # The queue (4) still has room, and it is someone else's to take.
        theirs = [launch(bob) for _ in range(2)]
        assert [r.status_code for r in theirs] == [202, 202]
        assert all(r.json()["status"] == "queued" for r in theirs)
        assert launch(bob).status_code == 429
        listed = alice.get("/api/runs").json()["runs"]
        assert len(listed) == 4  # refusals leave no record behind
        # A cancelled run gives its slot back to its client.
        queued = mine[1].json()["id"]
        assert alice.post(f"/api/runs/{queued}/cancel").status_code == 200
        again = launch(alice)
        assert again.status_code == 202
        for run_id in [mine[0].json()["id"], again.json()["id"], *(r.json()["id"] for r in theirs)]:
            alice.post(f"/api/runs/{run_id}/cancel")


def test_a_browser_over_the_limit_gets_a_page_that_says_when_to_retry(make_app):
    app = make_app("hold", run_concurrency=1, run_queue_size=4, run_queue_per_client=1)
    with TestClient(app) as client:
        first = client.post(
            "/api/runs", data={"method": "kd"}, headers=HTML, follow_redirects=False
        )
        assert first.status_code == 303
        refused = client.post(
            "/api/runs", data={"method": "kd"}, headers=HTML, follow_redirects=False
        )
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        # Said in the page's language, with the limit and the wait.
        assert "最多 1 个" in refused.text and "秒后再试" in refused.text
        assert int(refused.headers["retry-after"]) >= 1
        run_id = first.headers["location"].rsplit("/", 1)[1]
        assert client.post(f"/api/runs/{run_id}/cancel").status_code == 200
