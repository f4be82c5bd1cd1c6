"""Stand-in trainers: the ``train(config, emit)`` signature of
``app.distill.trainer.train``, no torch. Spawned workers import them by the
target spec ``support.fakes:<name>``. Their events are shaped as
docs/contracts.md has them (one value per seed) and pass the run contract."""

from __future__ import annotations

import os
import time

#: The seeds the fakes train "together"; not 0, 1 so that a seed is never its index.
SEEDS = [3, 4]


def _steps(emit, n: int, pause: float, phase: str = "train") -> None:
    emit({"type": "phase", "phase": phase, "state": "start", "epochs": 1, "steps": n,
          "seeds": SEEDS})
    for step in range(1, n + 1):
        if pause:
            time.sleep(pause)
        emit({"type": "metric", "kind": "step", "phase": phase, "epoch": 1, "step": step,
              "steps": n, "losses": {"student": {"total": [1.0 / step, 2.0 / step],
                                                 "ce": [0.5 / step, 1.0 / step]}}})
    emit({"type": "metric", "kind": "epoch", "phase": phase, "epoch": 1, "epochs": 1,
          "models": {"student": {"acc": [0.9, 0.8], "loss": [0.3, 0.4]},
                     "baseline": {"acc": [0.8, 0.7]}}})
    emit({"type": "phase", "phase": phase, "state": "end", "epochs": 1, "steps": n,
          "seeds": SEEDS})


def quick(config, emit):
    """Ten steps, a few milliseconds each; reports its pid so tests see reuse."""
    _steps(emit, 10, 0.002)
    return {"method": config.method, "seeds": SEEDS, "final_acc": 0.9, "pid": os.getpid()}


def slow(config, emit):
    """A step every 50 ms for up to a minute: something to queue behind or cancel."""
    _steps(emit, 1200, 0.05)
    return {"method": config.method}


def burst(config, emit):
    """2,000 events as fast as the pipe takes them: batching and slow viewers."""
    _steps(emit, 2000, 0.0)
    return {"method": config.method}


def boom(config, emit):
    _steps(emit, 2, 0.0)
    raise RuntimeError("the loss exploded")


def odd_numbers(config, emit):
    """NaN and infinity in a loss: must reach the store as null, not break JSON."""
    emit({"type": "metric", "kind": "step", "phase": "train", "epoch": 1, "step": 1,
          "steps": 1, "losses": {"student": {"total": [float("nan"), 0.5],
                                             "kd": [0.1, float("inf")]}}})
    return {"final_acc": float("nan")}


def emits_done(config, emit):
    """A trainer that emits `done` itself, as the real one does."""
    _steps(emit, 3, 0.0)
    summary = {"method": config.method, "final_acc": 0.5}
    emit({"type": "done", "summary": summary})
    return summary


def bad_event(config, emit):
    """An event the contract refuses (a metric without its kind): the run fails."""
    emit({"type": "metric", "phase": "train", "step": 1})
    return {}


def instant(config, emit):
    """Done in a millisecond: a launch that gets through costs next to nothing."""
    emit({"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 1,
          "seeds": [0, 1]})
    emit({"type": "metric", "kind": "step", "phase": "train", "epoch": 1, "step": 1,
          "steps": 1, "losses": {"student": {"total": [0.5, 0.6]}}})
    emit({"type": "phase", "phase": "train", "state": "end", "epochs": 1, "steps": 1,
          "seeds": [0, 1]})
    return {"method": config.method, "final_acc": 0.5}


def hold(config, emit):
    """Runs until cancelled (or a minute passes): a run that keeps its slot."""
    emit({"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 600,
          "seeds": [0]})
    for _ in range(600):
        time.sleep(0.1)
    return {"method": config.method}


def steady(config, emit):
    """150 steps, 20 ms apart (about 3 s): a run to restart things under."""
    _steps(emit, 150, 0.02)
    return {"method": config.method, "final_acc": 0.9}
