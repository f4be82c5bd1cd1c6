"""``train(config, emit)``: run one demo over its k seeds and report it through ``emit``.

The same call serves the CLI, the tests, the benchmarks and the web's worker process;
it knows nothing about any of them. Events follow docs/contracts.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from app.distill.events import DoneEvent, Summary, TrainerEvent
from app.distill.methods import METHODS, RunConfig
from app.distill.plan import plan
from app.distill.point import train_point


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available")
    return torch.device(name)


def train(config: RunConfig | dict, emit: Callable[[TrainerEvent], None]) -> Summary:
    """Validate ``config.params`` with the method's model, train its seeds together,
    emit every event (the models of app/distill/events.py), and return the summary
    (also the payload of the final ``done`` event).

    Raises ``pydantic.ValidationError`` for bad parameters, ``ValueError`` for a
    device that is not there; the same config gives the same metrics on CPU, and seed
    s of a k-seed run the metrics of a 1-seed run from s (to float rounding).
    """
    config = RunConfig.model_validate(config)
    method = METHODS[config.method]
    planned = plan(method, config.params)
    params = planned.params
    device = resolve_device(config.device)
    previous_threads = torch.get_num_threads()
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    try:
        if planned.sweep is not None:
            from app.distill.sweeper import train_sweep  # the sweep's own loop

            summary = train_sweep(method, params, planned.sweep, Path(config.data_dir),
                                  device, emit)
        elif planned.versus is not None:
            from app.distill.sweeper import train_versus

            summary = train_versus(method, params, planned.versus, Path(config.data_dir),
                                   device, emit)
        else:
            summary = train_point(method, params, Path(config.data_dir), device, emit)
        emit(DoneEvent(summary=summary))
        return summary
    finally:
        if config.threads > 0:
            torch.set_num_threads(previous_threads)
