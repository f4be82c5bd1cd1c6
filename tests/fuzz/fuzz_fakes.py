"""A stand-in trainer for the API fuzz: the signature of
``app.distill.trainer.train(config, emit)``, no torch, done in a millisecond, so a
fuzzed launch that gets through costs next to nothing."""

from __future__ import annotations


def instant(config, emit):
    emit({"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 1,
          "seeds": [0, 1]})
    emit(
        {
            "type": "metric",
            "kind": "step",
            "phase": "train",
            "epoch": 1,
            "step": 1,
            "steps": 1,
            "losses": {"student": {"total": [0.5, 0.6]}},  # one value per seed
        }
    )
    emit({"type": "phase", "phase": "train", "state": "end", "epochs": 1, "steps": 1,
          "seeds": [0, 1]})
    return {"method": config.method, "final_acc": 0.5}
