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
    title: str = ""  # its heading on the page
    scale: float = 1.0  # 100: fractions shown as percent
    #: The x axes it follows, the first when the page's choice is not one of them.
    x_modes: tuple[str, ...] = ("step", "epoch", "time")
    main: str = "total"
    smoothing: bool = False  # follows the page's smoothing control
    log_y: bool = False  # follows the page's log-scale control
    markers: bool = False
    #: One panel per metric name (`{term}` in the titles is its name), each model that
    #: reports it a trace: a method's own loss terms, each on its own axis. A model's
    #: `main` is drawn only where it is more than the `exclude`d metrics it sums (the
    #: baseline's total is its CE, shown on the CE chart already).
    facet: bool = False
    exclude: tuple[str, ...] = ()


CHARTS: tuple[Chart, ...] = (
    # Every model's cross-entropy on hard labels, on one axis: like with like (a
    # method's total, CE plus its other terms, is not the baseline's CE).
    Chart(
        id="ce", kind="step", group="losses", metric="ce",
        y_title="交叉熵（各种子均值 ± sd）", title="交叉熵（每步）",
        label="每步的交叉熵，各种子的均值与标准差带，方法与基线对比",
        smoothing=True, log_y=True,
    ),
    Chart(
        id="terms", kind="step", group="losses", metric=None,
        y_title="{term}（各种子均值 ± sd）", title="损失项 {term}（每步）",
        label="每步的损失项 {term}，各种子的均值与标准差带",
        smoothing=True, log_y=True, facet=True, exclude=("ce",),
    ),
    Chart(
        id="acc", kind="epoch", group="models", metric="acc",
        y_title="验证准确率 (%，各种子均值 ± sd)", title="验证准确率（每轮）",
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
