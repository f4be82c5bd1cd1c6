"""``python -m app demo list | demo run METHOD [--param value ...] [--json]``.

``main(argv)`` gets what follows ``demo``. ``run`` shows a progress bar with ETA on
stderr and then a table of the method against its baseline on stdout; ``--json``
prints every event as one JSON line instead. Bad input: a message and exit code 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from app.distill.events import Summary, as_event
from app.distill.methods import METHODS, Method

USAGE = """usage: python -m app demo list
       python -m app demo run METHOD [--PARAM VALUE ...] [--json]
                                     [--device auto|cpu|cuda] [--threads N] [--data-dir DIR]
       python -m app demo run METHOD --help      (the method's parameters)

Parameter names take dashes or underscores (--train-fraction 0.1, --train_fraction=0.1);
booleans take true/false (--baseline false)."""

RUN_OPTIONS = {"device", "threads", "data_dir"}


class UsageError(Exception):
    pass


def main(argv: list[str]) -> int:
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            print(USAGE)
            return 0 if argv else 2
        if argv[0] == "list":
            return _list(sys.stdout)
        if argv[0] == "run":
            return _run(argv[1:])
        raise UsageError(f"unknown demo command {argv[0]!r}")
    except UsageError as exc:
        print(f"error: {exc}\n\n{USAGE}", file=sys.stderr)
        return 2


def _list(out: TextIO) -> int:
    width = max(len(m) for m in METHODS)
    for method in METHODS.values():
        papers = ", ".join(method.papers) or "-"
        print(f"{method.id:<{width}}  {method.title}  [{papers}]", file=out)
    print("\n`python -m app demo run METHOD --help` lists a method's parameters.", file=out)
    return 0


def _describe(method: Method, out: TextIO) -> None:
    print(f"{method.id}: {method.title}\n\n{method.summary_en}\n{method.control_en}\n\n"
          "parameters:", file=out)
    for name, field in method.params.model_fields.items():
        bounds = [f"{op} {getattr(m, op)}" for m in field.metadata for op in ("ge", "le")
                  if hasattr(m, op)]
        extra = f" ({', '.join(bounds)})" if bounds else ""
        print(f"  --{name.replace('_', '-'):<16} default {field.default}{extra}: "
              f"{field.description}", file=out)


def parse_run_args(args: list[str]) -> tuple[Method, dict, dict, bool]:
    """(method, raw params, run options, json?) from ``METHOD --name value ...``."""
    if not args or args[0].startswith("-"):
        raise UsageError("demo run needs a METHOD; see `python -m app demo list`")
    if args[0] not in METHODS:
        raise UsageError(f"unknown method {args[0]!r}; known: {', '.join(METHODS)}")
    method, params, options, as_json = METHODS[args[0]], {}, {}, False
    rest = list(args[1:])
    while rest:
        token = rest.pop(0)
        if not token.startswith("--") or token == "--":
            raise UsageError(f"expected --PARAM VALUE, got {token!r}")
        name, eq, value = token[2:].partition("=")
        name = name.replace("-", "_")
        if name == "json" and not eq:
            as_json = True
            continue
        if name == "help" and not eq:
            raise _Help(method)
        if not eq:
            if not rest:
                raise UsageError(f"--{name.replace('_', '-')} needs a value")
            value = rest.pop(0)
        if name in RUN_OPTIONS:
            options[name] = value
        elif name in method.params.model_fields:
            params[name] = value
        else:
            known = ", ".join(n.replace("_", "-") for n in method.params.model_fields)
            raise UsageError(f"{method.id} has no parameter --{name.replace('_', '-')} "
                             f"(it has: {known})")
    return method, params, options, as_json


class _Help(Exception):
    def __init__(self, method: Method) -> None:
        self.method = method


def _validation_message(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err["loc"]) or "value"
        lines.append(f"--{where.replace('_', '-')}: {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


def _run(args: list[str]) -> int:
    try:
        method, raw, options, as_json = parse_run_args(args)
    except _Help as h:
        _describe(h.method, sys.stdout)
        return 0
    try:
        method.params.model_validate(raw)
    except ValidationError as exc:
        print(f"error: bad parameters for {method.id}:\n{_validation_message(exc)}",
              file=sys.stderr)
        return 2
    from app.distill.methods import RunConfig
    from app.settings import get_settings

    settings = get_settings()
    try:
        config = RunConfig(
            method=method.id, params=raw,
            data_dir=Path(options.get("data_dir", settings.data_dir)),
            device=options.get("device", settings.device),
            threads=options.get("threads", settings.torch_threads),
        )
    except ValidationError as exc:
        print(f"error: {_validation_message(exc)}", file=sys.stderr)
        return 2
    return _train(method, config, as_json)


def _train(method: Method, config, as_json: bool) -> int:
    from app.distill.trainer import resolve_device, train  # torch loads here

    try:
        resolve_device(config.device)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    view = JsonLines(sys.stdout) if as_json else Progress(sys.stderr)
    try:
        summary = train(config, checked(view))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    if not as_json:
        view.close()
        print(render_table(method, summary), file=sys.stdout)
    return 0


def checked(view):
    """The view, fed each event's wire form, checked with the trainer's own types
    (app/distill/events.py): the CLI prints exactly the events a web run would
    store, or fails on the same malformed one."""
    return lambda event: view(as_event(event).wire())


class JsonLines:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: dict) -> None:
        self.out.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.out.flush()


def mean(values: list[float] | float) -> float:
    """The mean across seeds of a metric event's per-seed list."""
    return sum(values) / len(values) if isinstance(values, list) else values


class Progress:
    """A one-line bar per phase with ETA (redrawn at most 10× a second on a terminal;
    one line per epoch otherwise), showing means across seeds."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.tty = out, out.isatty()
        self.phase, self.start, self.drawn, self.steps = "", 0.0, 0.0, 1
        self.line = ""

    def __call__(self, event: dict) -> None:
        kind = event["type"]
        if kind == "phase" and event["state"] == "start":
            self.phase, self.steps = event["phase"], max(1, event["steps"])
            self.start = time.perf_counter()
        elif kind == "phase":
            self._finish()
        elif kind == "log":
            self._finish()
            print(f"[{event['level']}] {event['message']}", file=self.out)
        elif kind == "metric" and event["kind"] == "step":
            self._step(event)
        elif kind == "metric":
            self._epoch(event)

    def _step(self, event: dict) -> None:
        now = time.perf_counter()
        if not self.tty or (now - self.drawn < 0.1 and event["step"] < event["steps"]):
            return
        self.drawn = now
        done = event["step"] / self.steps
        elapsed = now - self.start
        eta = elapsed / done - elapsed if done > 0 else 0.0
        bar = "#" * int(24 * done) + "-" * (24 - int(24 * done))
        loss = event["losses"].get("student") or next(iter(event["losses"].values()))
        self.line = (f"{self.phase:<7} [{bar}] {event['step']}/{event['steps']} "
                     f"ETA {eta:4.1f}s  epoch {event['epoch']}  loss {mean(loss['total']):.3f}")
        self.out.write("\r" + self.line)
        self.out.flush()

    def _epoch(self, event: dict) -> None:
        if not self.tty:
            accs = "  ".join(f"{n} {100 * mean(s['acc']):.1f}%"
                             for n, s in event["models"].items())
            print(f"{event['phase']} epoch {event['epoch']}/{event['epochs']}  {accs}",
                  file=self.out)

    def _finish(self) -> None:
        if self.line:
            self.out.write("\n")
            self.line = ""

    def close(self) -> None:
        self._finish()
        self.out.flush()


def render_table(method: Method, summary: Summary) -> str:
    """Every model's test accuracy (mean ± sd over seeds; final, and at the best
    validation epoch), then the paired Δ with its 95% CI and the verdict."""
    from app.distill.stats import arm_stats

    seeds, split = summary.seeds, summary.split
    rows = [f"{method.id}: {method.title}",
            f"seeds {seeds[0]}–{seeds[-1]} ({len(seeds)}); per seed {split.train} "
            f"training, {split.val} validation, {split.test} test digits", "",
            f"{'model':<10} {'test acc':>16} {'at best val epoch':>18}"]
    for name, per_seed in summary.per_seed.items():
        final, best = arm_stats(per_seed.test_acc), arm_stats(per_seed.best_val_test_acc)
        rows.append(f"{name:<10} {_pct(final):>16} {_pct(best):>18}")
    rows.append("")
    for d, label in ((summary.delta, "final models"), (summary.delta_best_val, "best val epoch")):
        if d:
            rows.append(f"method − baseline ({label}): Δ {100 * d.mean:+.2f} points"
                        + (f", 95% CI [{100 * d.ci_low:+.2f}, {100 * d.ci_high:+.2f}]"
                           if d.ci_low is not None else "")
                        + f"; {d.wins}/{d.ties}/{d.losses} W/T/L: {d.label_en}")
    rows.append(f"\nwall time {summary.wall_s:.1f} s")
    return "\n".join(rows)


def _pct(stats: dict) -> str:
    sd = f" ± {100 * stats['sd']:.1f}" if stats["sd"] is not None else ""
    return f"{100 * stats['mean']:.1f}{sd}%"
