"""One bar and one ETA for a whole run, across its phases (torch-free).

The trainer's phase starts say what is ahead: a teacher phase its ``steps`` and, when
these teachers were trained before on this device, ``estimate_s``; every phase start
the steps of the run's own phases in all (``run_steps``) and, when recorded, what they
should take (``run_estimate_s``). A sweep's or comparison's events carry their point
and the number of points. ``RunProgress`` reads the events in order and gives each one
the whole run's ``done`` (0–1, never going back), ``left_s`` (None: unknown, never a
guess) and ``elapsed_s``; the run's end gives its real time, and ``done`` 1 when
it succeeded (a failed or cancelled run's bar stops where it was).

What is measured beats what was recorded: a phase under way is timed by its own
steps; a part not yet begun by its record, or it is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Wire = dict[str, Any]
FINAL = ("done", "failed", "cancelled")


def is_teacher(phase: str | None) -> bool:
    """A teacher phase, the run's own or an arm's (``arm kd: teacher``)."""
    return bool(phase) and phase.rsplit(": ", 1)[-1] == "teacher"


@dataclass
class _Phase:
    name: str
    steps: int
    start: float
    estimate_s: float | None = None
    done: int = 0
    last: float | None = None  # the time of its latest step

    def spent(self) -> float:
        return 0.0 if self.last is None else self.last - self.start

    def left_s(self, now: float) -> float | None:
        """Its own steps' pace once it has one, else its record, else unknown."""
        if self.done > 0 and self.last is not None:
            return self.spent() / self.done * max(0, self.steps - self.done)
        if self.estimate_s is None:
            return None
        return max(0.0, self.estimate_s - (now - self.start))


@dataclass
class _Point:
    """One point of a run (a plain run has one): its phases and its plan."""

    start: float
    run_steps: int = 0
    run_estimate_s: float | None = None
    teacher: _Phase | None = None  # the teacher phase under way
    teacher_steps: int = 0  # of the teacher phases begun
    teacher_done: int = 0
    own: list[_Phase] = field(default_factory=list)  # the run's own phases begun

    def own_done(self) -> int:
        return sum(p.done for p in self.own)

    def own_total(self) -> int:
        return max(self.run_steps, sum(p.steps for p in self.own))

    def own_left_s(self) -> float | None:
        left = self.own_total() - self.own_done()
        if left <= 0:
            return 0.0
        done = self.own_done()
        if done > 0:
            return sum(p.spent() for p in self.own) / done * left
        if self.run_estimate_s is not None and self.run_steps:
            return self.run_estimate_s / self.run_steps * left
        return None

    def left_s(self, now: float) -> float | None:
        teacher = 0.0 if self.teacher is None else self.teacher.left_s(now)
        own = self.own_left_s()
        return None if teacher is None or own is None else teacher + own

    def fraction_by_steps(self) -> float:
        total = self.teacher_steps + self.own_total()
        return (self.teacher_done + self.own_done()) / total if total else 0.0


class RunProgress:
    """Feed it a run's events in order (``see``); each comes back with ``whole``."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.point: _Point | None = None
        self.index = 0  # the point under way
        self.points = 1
        self.point_times: list[float] = []  # the wall seconds of the points finished
        self.done = 0.0

    def see(self, data: Wire) -> dict[str, Any] | None:
        """The whole run's progress after this event (None for one that says nothing
        of it, a log line)."""
        now = data.get("t")
        kind = data.get("type")
        if not isinstance(now, int | float):
            return None
        if self.t0 is None:  # the run's first event, a log line as well
            self.t0 = now
        if kind not in ("phase", "metric", *FINAL):
            return None
        if kind in FINAL:  # the bar stops: full when the run did it all
            self.done = 1.0 if kind == "done" else self.done
            return {"done": round(self.done, 4), "left_s": 0.0,
                    "elapsed_s": round(now - self.t0, 1)}
        self._follow_point(data, now)
        if kind == "phase":
            self._phase(data, now)
        elif data.get("kind") == "step":
            self._step(data, now)
        left = self._left_s(now)
        elapsed = now - self.t0
        if left is not None and elapsed + left > 0:
            fraction = elapsed / (elapsed + left)
        else:
            fraction = (self.index + self.point.fraction_by_steps()) / self.points
        self.done = max(self.done, min(fraction, 0.99))  # 1 only when it has ended
        return {"done": round(self.done, 4),
                "left_s": None if left is None else round(left, 1),
                "elapsed_s": round(elapsed, 1)}

    def _follow_point(self, data: Wire, now: float) -> None:
        points = data.get("points")
        if isinstance(points, int) and points > 0:
            self.points = points
        index = data.get("point", 0)
        index = index if isinstance(index, int) else 0
        if self.point is None:
            self.point, self.index = _Point(now), index
        elif index != self.index:
            self.point_times.append(now - self.point.start)
            self.point, self.index = _Point(now), index

    def _phase(self, data: Wire, now: float) -> None:
        point = self.point
        if isinstance(data.get("run_steps"), int):
            point.run_steps = data["run_steps"]
            point.run_estimate_s = data.get("run_estimate_s")
        if data.get("state") != "start":
            if is_teacher(data.get("phase")):
                point.teacher = None
            return
        phase = _Phase(data.get("phase") or "", int(data.get("steps") or 0), now,
                       data.get("estimate_s"))
        if is_teacher(phase.name):
            point.teacher = phase
            point.teacher_steps += phase.steps
        else:
            point.own.append(phase)

    def _step(self, data: Wire, now: float) -> None:
        point = self.point
        phase = point.teacher if is_teacher(data.get("phase")) else (
            point.own[-1] if point.own else None)
        if phase is None:
            return
        step = data.get("step")
        advanced = (step if isinstance(step, int) else phase.done + 1) - phase.done
        phase.done += max(0, advanced)
        phase.last = now
        if phase is point.teacher:
            point.teacher_done += max(0, advanced)

    def _left_s(self, now: float) -> float | None:
        here = self.point.left_s(now)
        ahead = self.points - self.index - 1
        if here is None or ahead <= 0:
            return here
        # The points ahead: as long as the last one done took (a sweep's first point
        # also trains what the others reuse), or as this one will.
        per_point = (self.point_times[-1] if self.point_times
                     else now - self.point.start + here)
        return here + ahead * per_point
