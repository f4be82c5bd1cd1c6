"""``train(config, emit)``: run one demo and report it through ``emit``.

The same call serves the CLI, the tests, the benchmarks and the web's worker process;
it knows nothing about any of them. Events follow docs/contracts.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from app.distill.data import load_split
from app.distill.engine import Context, Emitter, Stopwatch
from app.distill.methods import METHODS, RunConfig
from app.distill.recipes import RECIPES
from app.distill.recipes.common import Result


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available")
    return torch.device(name)


def train(config: RunConfig | dict, emit: Callable[[dict], None]) -> dict:
    """Validate ``config.params`` with the method's model, train, emit every event, and
    return the summary (also the payload of the final ``done`` event).

    Raises ``pydantic.ValidationError`` for bad parameters, ``ValueError`` for a
    device that is not there; the same config and seed give the same metrics on CPU.
    """
    config = RunConfig.model_validate(config)
    method = METHODS[config.method]
    params = method.params.model_validate(config.params)
    device = resolve_device(config.device)
    previous_threads = torch.get_num_threads()
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    try:
        watch = Stopwatch()
        split = load_split(params.seed, params.train_fraction, device)
        emitter = Emitter(emit)
        emitter.log(
            f"{method.id} on {device.type} ({torch.get_num_threads()} threads): "
            f"{split.num_train} training digits, {split.y_test.numel()} test digits"
        )
        ctx = Context(params, split, device, Path(config.data_dir), emitter)
        result = RECIPES[method.id](ctx)
        summary = summarize(method.id, result, watch.seconds())
        emit({"type": "done", "summary": summary})
        return summary
    finally:
        if config.threads > 0:
            torch.set_num_threads(previous_threads)


def summarize(method: str, result: Result, wall_s: float) -> dict:
    """Final and best test accuracy of the student and the baseline, Δ, every model's
    final accuracy, the teacher's, and the wall time."""
    final = result.history[-1]

    def best(name: str) -> float | None:
        return max(h[name]["acc"] for h in result.history) if name in final else None

    base_final = final["baseline"]["acc"] if "baseline" in final else None
    student_final = final["student"]["acc"]
    return {
        "method": method,
        "final_acc": student_final,
        "best_acc": best("student"),
        "baseline_final_acc": base_final,
        "baseline_best_acc": best("baseline"),
        "delta_acc": None if base_final is None else student_final - base_final,
        "teacher_acc": result.teacher_acc,
        "models": {name: s["acc"] for name, s in final.items()},
        "wall_s": round(wall_s, 3),
    }
