"""Waits that fail instead of hanging, and a reader of a run's event stream."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from app.runs.contract import TERMINAL_EVENTS


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


async def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    """The same on an event loop."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
    return value


def wait_run(http: httpx.Client, run_id: str, statuses, timeout: float = 30.0) -> dict:
    """Poll GET /api/runs/{id} until its status is one of `statuses`."""
    statuses = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    while True:
        run = http.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
        time.sleep(0.05)


def read_sse(client: httpx.Client, url: str, *, headers: dict | None = None,
             stop_after: int | None = None, deadline: float = 60.0) -> list[dict]:
    """Read a run's event stream: [{id, event, data, received}], until the terminal
    event, `stop_after` events (then the connection is dropped), or `deadline`
    seconds (then the test fails). A silent stream fails on the 10 s read timeout."""
    events: list[dict] = []
    end = time.monotonic() + deadline
    fields: dict[str, str] = {}
    with client.stream("GET", url, headers=headers, timeout=httpx.Timeout(10.0)) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if time.monotonic() > end:
                raise AssertionError(f"stream {url} still open after {deadline} s")
            if line.startswith(":"):
                continue  # keep-alive ping
            if line:
                key, _, value = line.partition(":")
                fields[key] = value.removeprefix(" ")
                continue
            if "data" in fields:
                event = {"id": int(fields["id"]), "event": fields["event"],
                         "data": json.loads(fields["data"]), "received": time.time()}
                events.append(event)
                if event["event"] in TERMINAL_EVENTS or (stop_after and len(events) >= stop_after):
                    return events
            fields = {}
    return events


def assert_well_ordered(events: list[dict], first: int = 1) -> None:
    """seq first..N without gap or repeat; the SSE id, name and data agree."""
    assert [e["id"] for e in events] == list(range(first, first + len(events)))
    for e in events:
        assert e["data"]["seq"] == e["id"] and e["data"]["type"] == e["event"]
