"""The run page's charts, declared once: each is one entry here, naming the metric
group of the trainer's events that feeds it (docs/contracts.md). `run.js` draws
every entry (it gets the table in its page's boot JSON) and the metrics export
(app/runs/metrics.py) writes every group named here, so adding a chart for an
emitted metric group is one entry in this file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Chart:
    id: str  # the page element is `{id}-chart` (made by run.js if the page has none)
    kind: Literal["step", "epoch"]  # the metric events that feed it
    group: str  # their field: model name -> metric name -> one value per seed
    #: Draw this metric of each model (one trace per model); None: every metric of
    #: each model, `main` with its seeds' lines, the others hidden in the legend.
    metric: str | None
    y_title: str
    label: str  # what a screen reader says of it
    scale: float = 1.0  # 100: fractions shown as percent
    #: The x axes it follows, the first when the page's choice is not one of them.
    x_modes: tuple[str, ...] = ("step", "epoch", "time")
    main: str = "total"
    smoothing: bool = False  # follows the page's smoothing control
    log_y: bool = False  # follows the page's log-scale control
    markers: bool = False


CHARTS: tuple[Chart, ...] = (
    Chart(
        id="loss", kind="step", group="losses", metric=None,
        y_title="损失（各种子均值 ± sd）",
        label="每步训练损失，各种子的均值与标准差带，方法与基线对比",
        smoothing=True, log_y=True,
    ),
    Chart(
        id="acc", kind="epoch", group="models", metric="acc",
        y_title="验证准确率 (%，各种子均值 ± sd)",
        label="每轮验证准确率，各种子的均值与标准差带",
        scale=100.0, x_modes=("epoch", "time"), markers=True,
    ),
)  # fmt: skip


def metric_groups(kind: str) -> list[str]:
    """The fields of a `kind` metric event that hold metric groups, in table order."""
    return list(dict.fromkeys(c.group for c in CHARTS if c.kind == kind))


def chart_table() -> list[dict[str, Any]]:
    """The table as run.js reads it."""
    return [asdict(c) for c in CHARTS]
