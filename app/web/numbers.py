"""Numbers as the pages print them: percentages, signed points, "—" for what is not a
finite number. Its own module so that results.py and claim_views.py both use it
without importing each other."""

from __future__ import annotations

import math
from typing import Any

DASH = "—"


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (None, NaN, a string, a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def pct(value: Any, digits: int = 2) -> str:
    """A fraction as a percentage: 0.9412 -> "94.12%"."""
    x = number(value)
    return DASH if x is None else f"{x * 100:.{digits}f}%"


def points(value: Any, digits: int = 2) -> str:
    """A difference of fractions in signed percentage points: 0.026 -> "+2.60"."""
    x = number(value)
    return DASH if x is None else f"{x * 100:+.{digits}f}"
