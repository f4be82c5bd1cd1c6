"""What the teacher cache holds and what training cost, torch-free.

A teacher's cache key and file name (``teacher.py`` reads and writes the weights),
which seeds of a teacher are cached, and the **cost records**: the wall seconds a
teacher stack took to train, and what a run's own steps cost, measured by the
trainer and kept beside the weights (``data_dir/teachers/costs.json``). The trainer
estimates a phase from them before it starts; the web tells a reader what a first run
will cost. Nothing here guesses a time: no record, no estimate.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DIGITS_FILE = Path(__file__).resolve().parent / "data" / "digits.npz"
TEACHER_CODE_VERSION = 2
TEACHER_LR = 0.05
TEACHER_BATCH = 64
TEACHER_WEIGHT_DECAY = 5e-4
COSTS_FILE = "costs.json"


@dataclass(frozen=True)
class TeacherSettings:
    """How a teacher trains: plain CE, SGD with momentum and cosine decay."""

    arch: str
    epochs: int
    train_fraction: float
    lr: float = TEACHER_LR
    batch_size: int = TEACHER_BATCH
    weight_decay: float = TEACHER_WEIGHT_DECAY
    label_smoothing: float = 0.0  # a of (1 − a)·onehot + a/K (arXiv 1906.02629)


def plain_teacher(params: Any) -> tuple[TeacherSettings, ...]:
    """The teacher of kd, sp, fsp, at...: the deeper CNN on each seed's whole pool."""
    return (TeacherSettings("cnn15", params.teacher_epochs, 1.0),)


@lru_cache(maxsize=1)
def data_fingerprint() -> str:
    """SHA-256 prefix of the shipped file: part of every teacher's cache key."""
    return hashlib.sha256(DIGITS_FILE.read_bytes()).hexdigest()[:16]


def teacher_key(settings: TeacherSettings, seed: int) -> dict:
    """The cache key. A smoothed teacher's holds its ``label_smoothing``; a plain
    teacher's leaves it out, so the keys (and files) of existing teachers stay valid."""
    fields = asdict(settings)
    if not fields["label_smoothing"]:
        del fields["label_smoothing"]
    return {"dataset": "digits8x8", "data": data_fingerprint(), "seed": seed,
            "version": TEACHER_CODE_VERSION} | fields


def cache_path(data_dir: Path, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return Path(data_dir) / "teachers" / f"{key['arch']}-seed{key['seed']}-{digest}.pt"


def cached_seeds(data_dir: Path, settings: TeacherSettings, seeds: list[int]) -> list[int]:
    """The seeds among ``seeds`` whose teacher file is in the cache (a torn file is
    found only when loaded, and then retrained)."""
    return [s for s in seeds if cache_path(data_dir, teacher_key(settings, s)).exists()]


# -- cost records ----------------------------------------------------------------


def teacher_cost_key(settings: TeacherSettings) -> dict:
    """What a teacher's training cost depends on, but its seed."""
    key = teacher_key(settings, 0)
    del key["seed"]
    return {"kind": "teacher", **key}


def steps_cost_key(method: str, seeds: int) -> dict:
    """What the steps of a run's own phases (its models and arms) cost depends on."""
    return {"kind": "steps", "method": method, "seeds": seeds}


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _read(data_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(data_dir) / "teachers" / COSTS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_cost(data_dir: Path, key: dict, seconds: float, units: int, device: str,
                threads: int) -> None:
    """Keep what ``units`` units (teacher seeds, or steps) of ``key`` took on
    ``device``; the latest measurement replaces the one before. Written atomically:
    concurrent runs may record at once (one of them wins)."""
    if units <= 0 or seconds < 0:
        return
    records = _read(data_dir)
    records[_digest({**key, "device": device})] = {
        "key": key, "device": device, "threads": threads, "seconds": round(seconds, 3),
        "units": units, "per_unit_s": seconds / units, "at": time.time(),
    }
    path = Path(data_dir) / "teachers" / COSTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(records, sort_keys=True), "utf-8")
    os.replace(tmp, path)


def recorded_cost(data_dir: Path, key: dict, device: str | None = None) -> dict | None:
    """The latest record of ``key`` (on ``device``, or on any when None): its
    ``seconds``, ``units``, ``per_unit_s``, ``device`` and ``threads``; None if none."""
    found = [r for r in _read(data_dir).values()
             if isinstance(r, dict) and r.get("key") == key
             and (device is None or r.get("device") == device)
             and isinstance(r.get("per_unit_s"), int | float)]
    return max(found, key=lambda r: r.get("at", 0)) if found else None


def estimate_s(data_dir: Path, key: dict, units: int, device: str | None = None) -> float | None:
    """Seconds ``units`` units of ``key`` should take, from its latest record; None
    (unknown) without one."""
    record = recorded_cost(data_dir, key, device)
    return None if record is None else round(record["per_unit_s"] * units, 1)
