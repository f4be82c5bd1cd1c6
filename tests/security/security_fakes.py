"""Stand-in trainers for the security tests: the signature of
``app.distill.trainer.train(config, emit)``, no torch. Spawned workers import them
as ``security_fakes:<name>`` (conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import time


def instant(config, emit):
    emit({"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 1,
          "seeds": [0]})
    return {"method": config.method, "final_acc": 0.5}


def hold(config, emit):
    """Runs until cancelled (or a minute passes): a run that keeps its slot."""
    emit({"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 600,
          "seeds": [0]})
    for _ in range(600):
        time.sleep(0.1)
    return {"method": config.method}
