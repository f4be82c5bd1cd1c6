"""JSON and SSE API of the run service: launch, list, inspect, cancel, follow."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.catalog.catalog import Catalog
from app.distill.events import Summary
from app.distill.methods import METHODS  # torch-free by contract
from app.runs import RunManager, RunRecord, Status, StoredEvent
from app.runs.metrics import COLUMNS, to_csv
from app.web.bindings import paper_methods
from app.web.deps import MaybeCatalogDep, RunsDep, SettingsDep
from app.web.launch import (
    ClientDep,
    FieldErrors,
    Message,
    check_token,
    read_fields,
    wants_page,
)
from app.web.templating import root

router = APIRouter(prefix="/api/runs", tags=["runs"])

#: Keep-alive comment interval: well under the idle timeouts of common proxies.
PING_SECONDS = 15
#: Tell browsers to reconnect quickly after a dropped stream (milliseconds).
RETRY_MS = 1000


# -- shapes (for the OpenAPI document and response checking) --------------------


class RunRequest(BaseModel):
    # What `read_launch` enforces: a method id, and no other fields; the params are
    # then checked by the method's own parameter model.
    model_config = ConfigDict(extra="forbid")

    method: str = Field(
        min_length=1, description="A method id, e.g. `kd` (see the methods registry)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="The method's parameters; omitted ones take defaults."
    )
    token: str | None = Field(None, description="The run token, when the server sets one.")


class RunCreated(BaseModel):
    id: str
    url: str = Field(description="The run's page: `/runs/{id}`.")
    status: Status
    position: int | None = Field(description="Place in the queue (1: next), when queued.")


class RunOut(BaseModel):
    id: str
    url: str
    events_url: str
    method: str
    params: dict[str, Any]
    status: Status
    position: int | None
    progress: dict[str, Any] = Field(
        description="phase, phase_state, epoch, epochs, step, steps: as far as known."
    )
    summary: Summary | None = Field(
        description="The trainer's summary (app/distill/events.py), once the run succeeded.")
    error: str | None
    pinned: str | None = Field(
        None, description="Kept by retention: `reader` (pinned) or `methods` (the live "
        "row of /methods); null: deleted after RUN_RETENTION_DAYS.",
    )
    created_at: float = Field(description="Unix seconds, like every timestamp here.")
    started_at: float | None
    finished_at: float | None
    last_seq: int = Field(description="seq of the latest stored event (0: none yet).")


class RunList(BaseModel):
    runs: list[RunOut]


class Metrics(BaseModel):
    id: str
    method: str
    status: Status
    columns: list[str]
    points: list[dict[str, Any]]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": FieldErrors if code == 422 else Message} for code in (*codes, 503)}


# -- dependencies -----------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    """A launch request, checked: the method, its parameters validated by the
    method's model (a 422 names the field path otherwise), who asks, and how."""

    method: str
    params: BaseModel
    client: str
    is_form: bool


async def read_launch(
    request: Request, runs: RunsDep, settings: SettingsDep, client: ClientDep
) -> Launch:
    fields, is_form = await read_fields(request)
    check_token(settings, request, fields)
    unknown = sorted(set(fields) - set(RunRequest.model_fields))
    method = fields.get("method")
    problems = [
        {"loc": ("body", key), "msg": "unexpected field", "type": "extra_forbidden"}
        for key in unknown
    ]
    if not isinstance(method, str) or not method:
        problems.append(
            {"loc": ("body", "method"), "msg": "a method id is required", "type": "missing"}
        )
    if problems:
        raise RequestValidationError(problems)
    return Launch(method, runs.check(method, fields.get("params", {})), client, is_form)


LaunchDep = Annotated[Launch, Depends(read_launch)]


RunId = Annotated[str, Path(min_length=1, max_length=64)]


def _record(runs: RunManager, run_id: str) -> RunRecord:
    record = runs.get(run_id)
    if record is None:
        raise HTTPException(404, f"no run {run_id!r}")
    return record


def _out(record: RunRecord) -> dict[str, Any]:
    return {
        **record.model_dump(include=set(RunOut.model_fields), mode="json"),
        "url": f"/runs/{record.id}",
        "events_url": f"/api/runs/{record.id}/events",
    }


# -- launching and cancelling ---------------------------------------------------------


@router.post(
    "",
    status_code=202,
    response_model=RunCreated,
    summary="Launch a run; it starts at once or waits in the queue",
    responses=_errors(400, 401, 403, 404, 413, 415, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RunRequest.model_json_schema()}},
        }
    },
)
async def create_run(request: Request, runs: RunsDep, launch: LaunchDep) -> Response:
    record = await run_in_threadpool(runs.submit, launch.method, launch.params, launch.client)
    url = f"{root(request)}/runs/{record.id}"  # where the browser goes: under ROOT_PATH
    if wants_page(request, launch.is_form):
        return RedirectResponse(url, status_code=303)
    body = {"id": record.id, "url": url, "status": record.status, "position": record.position}
    return JSONResponse(body, status_code=202, headers={"Location": url})


@router.post(
    "/{run_id}/cancel",
    response_model=RunOut,
    summary="Cancel a queued or running run (its events so far are kept)",
    responses=_errors(400, 401, 403, 404, 409, 415),
)
async def cancel_run(
    run_id: RunId, request: Request, runs: RunsDep, settings: SettingsDep
) -> Response:
    fields, is_form = await read_fields(request)
    check_token(settings, request, fields)
    record = await run_in_threadpool(runs.cancel, run_id)
    if wants_page(request, is_form):
        return RedirectResponse(f"{root(request)}/runs/{run_id}", status_code=303)
    return JSONResponse(_out(record))


async def _set_pin(run_id: str, request: Request, runs: RunManager, settings: Any,
                   pinned: bool) -> Response:  # fmt: skip
    fields, is_form = await read_fields(request)
    check_token(settings, request, fields)
    record = await run_in_threadpool(runs.pin, run_id, pinned)
    if wants_page(request, is_form):
        return RedirectResponse(f"{root(request)}/runs/{run_id}", status_code=303)
    return JSONResponse(_out(record))


@router.post(
    "/{run_id}/pin",
    response_model=RunOut,
    summary="Pin a run: retention never deletes it (links to it keep working)",
    responses=_errors(400, 401, 403, 404, 415),
)
async def pin_run(run_id: RunId, request: Request, runs: RunsDep,
                  settings: SettingsDep) -> Response:  # fmt: skip
    return await _set_pin(run_id, request, runs, settings, True)


@router.post(
    "/{run_id}/unpin",
    response_model=RunOut,
    summary="Release a reader's pin: retention may delete the run again",
    responses=_errors(400, 401, 403, 404, 415),
)
async def unpin_run(run_id: RunId, request: Request, runs: RunsDep,
                    settings: SettingsDep) -> Response:  # fmt: skip
    return await _set_pin(run_id, request, runs, settings, False)


# -- reading -------------------------------------------------------------------------


def _paper_methods(catalog: Catalog | None, paper: str) -> list[str]:
    """Methods of a paper given by catalog slug, arXiv id or exact title."""
    from app.distill.methods import methods_for_paper  # torch-free by contract

    found = catalog.paper(paper) if catalog is not None else None
    if found is not None:  # the page's own binding, the note's bullet included
        return [m.id for m in paper_methods(found)]
    methods = methods_for_paper(paper, paper)
    if not methods:
        raise HTTPException(404, f"no paper {paper!r}")
    return [m.id for m in methods]


@router.get("", response_model=RunList, summary="Runs, newest first", responses=_errors(404))
def list_runs(
    runs: RunsDep,
    catalog: MaybeCatalogDep,
    method: Annotated[
        str | None,
        Query(max_length=64, description="A method id.", json_schema_extra={"enum": [*METHODS]}),
    ] = None,
    paper: Annotated[
        str | None, Query(max_length=300, description="A paper's slug or arXiv id.")
    ] = None,
    status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    methods: set[str] | None = None
    if method is not None:
        if not runs.knows(method):
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", "method"),
                        "msg": f"unknown method {method!r}",
                        "type": "value_error",
                    }
                ]
            )
        methods = {method}
    if paper is not None:
        of_paper = set(_paper_methods(catalog, paper))
        methods = of_paper if methods is None else methods & of_paper
    records = runs.list_runs(methods=methods, status=status, limit=limit)
    return {"runs": [_out(r) for r in records]}


@router.get(
    "/{run_id}",
    response_model=RunOut,
    summary="One run: status, progress, summary",
    responses=_errors(404),
)
def get_run(run_id: RunId, runs: RunsDep) -> dict[str, Any]:
    return _out(_record(runs, run_id))


@router.get(
    "/{run_id}/metrics.json",
    response_model=Metrics,
    responses=_errors(404),
    summary="Every stored metric point, one row per number",
)
def metrics_json(run_id: RunId, runs: RunsDep) -> dict[str, Any]:
    record = _record(runs, run_id)
    return {
        "id": run_id,
        "method": record.method,
        "status": record.status,
        "columns": list(COLUMNS),
        "points": list(runs.metric_rows(run_id)),
    }


@router.get(
    "/{run_id}/metrics.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **_errors(404)},
    summary="Every stored metric point as CSV",
)
def metrics_csv(run_id: RunId, runs: RunsDep) -> StreamingResponse:
    _record(runs, run_id)
    return StreamingResponse(
        to_csv(runs.metric_rows(run_id)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-metrics.csv"'},
    )


@router.get(
    "/{run_id}/events",
    response_class=EventSourceResponse,
    summary="Server-Sent Events: stored events after Last-Event-ID (or ?after=N), then live",
    responses={200: {"content": {"text/event-stream": {}}}, **_errors(400, 404)},
)
async def run_events(
    run_id: RunId,
    runs: RunsDep,
    after: Annotated[int | None, Query(ge=0, description="Resume after this seq.")] = None,
    # A plain str: a header is never null, and `str | None` documents that it may be.
    last_event_id: Annotated[
        str,
        Header(
            max_length=32,
            description="Set by a reconnecting browser: the seq of the last event it got.",
            json_schema_extra={"pattern": "^[0-9]*$"},  # anything else: 400, said below
        ),
    ] = "",
) -> EventSourceResponse:
    await run_in_threadpool(_record, runs, run_id)
    start = after or 0
    if last_event_id:  # a reconnecting browser: newer than the ?after it first used
        seq = last_event_id.strip()
        if not (seq.isascii() and seq.isdigit()):  # isdigit() alone takes "²"; int() doesn't
            raise HTTPException(400, "Last-Event-ID must be an event's seq (an integer)")
        start = int(seq)

    async def stream():
        yield ServerSentEvent(retry=RETRY_MS)  # no data: sets the reconnect delay only
        async for chunk in runs.follow(run_id, start):
            # Several events that piled up go out in one write.
            yield b"".join(_encoded(event) for event in chunk)

    return EventSourceResponse(stream(), ping=PING_SECONDS, headers={"X-Accel-Buffering": "no"})


@lru_cache(maxsize=8192)
def _encoded(event: StoredEvent) -> bytes:
    """An event in SSE framing (sse-starlette's), encoded once for all its viewers."""
    return ServerSentEvent(data=event.data, event=event.type, id=str(event.seq)).encode()
