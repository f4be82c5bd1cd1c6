"""One function per method, ``run_<id>(ctx) -> Result``, grouped by family."""

from __future__ import annotations

from collections.abc import Callable

from app.distill.engine import Context
from app.distill.recipes.common import Result
from app.distill.recipes.features import run_fsp, run_sp
from app.distill.recipes.logits import run_baseline, run_kd, run_lsr, run_tfkd_reg, run_tfkd_self
from app.distill.recipes.mutual import run_dml
from app.distill.recipes.selfkd import run_byot, run_cskd, run_msd

RECIPES: dict[str, Callable[[Context], Result]] = {
    "baseline": run_baseline,
    "kd": run_kd,
    "lsr": run_lsr,
    "tfkd_self": run_tfkd_self,
    "tfkd_reg": run_tfkd_reg,
    "sp": run_sp,
    "fsp": run_fsp,
    "cskd": run_cskd,
    "byot": run_byot,
    "msd": run_msd,
    "dml": run_dml,
}
