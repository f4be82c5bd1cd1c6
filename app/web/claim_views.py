"""The papers' claims as a reader sees them (torch-free): for each claim of a method,
its wording and comparator in both languages, and its Δ, 95% CI and verdict, raw and
Holm-adjusted, from a live run and from the committed reference.

The run page adjusts across the run's own claims (the summary's comparisons); a
page that shows many claims adjusts its live ones again across the page
(``readjust``); the reference is adjusted across its whole family in
`bench/reproduce.py`. ``chance`` says what chance alone gives for the page's
intervals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from app.distill.claims import adjust, verdict_text
from app.distill.claims import chance as chance_of
from app.distill.events import Comparison, Text
from app.distill.methods import METHODS
from app.web.numbers import DASH, points

#: What a column of claims says, in both languages (for the templates and issue 18).
HEADINGS = {
    "claims": {"zh": "论文的说法", "en": "What the papers claim"},
    "versus": {"zh": "对照", "en": "compared with"},
    "raw": {"zh": "结论（未校正）", "en": "verdict (raw)"},
    "holm": {"zh": "结论（Holm 校正，族错误率 5%）", "en": "verdict (Holm, family-wise 5%)"},
    "where": {"zh": "出处", "en": "where in the paper"},
    "unadjusted": {"zh": "以下两两区间均未做多重比较校正："
                         "同时看的区间越多，单凭偶然出现的“结论”越多。",
                   "en": "These pairwise intervals are unadjusted: the more of them you read "
                         "at once, the more 'verdicts' chance alone gives."},
}


class ClaimCell(BaseModel):
    """One judgement of a claim, as display strings and keys."""

    n: int
    delta: str  # "+1.23" points, or "—"
    ci: str  # "[+0.10, +2.36]" or "—"
    verdict: str
    adjusted_verdict: str
    label: Text
    adjusted_label: Text
    p_value: float | None
    adjusted_p_value: float | None
    outcome: str | None = None  # what a small enough p decides
    swept: str = ""  # "train_fraction = 0.1 (in the paper's range)"


class ClaimRow(BaseModel):
    id: str
    statement: Text
    versus: Text
    direction: str
    margin: float
    where: str
    source: str
    live: ClaimCell | None = None
    reference: ClaimCell | None = None


def cell(c: Comparison) -> ClaimCell:
    ci = (DASH if c.ci_low is None or c.ci_high is None else
          f"[{points(c.ci_low)}, {points(c.ci_high)}]")
    swept = ""
    if c.swept is not None:
        where = {True: "（在论文所说的范围内）", False: "（不在论文所说的范围内）"}.get(
            c.swept.in_range, "")
        swept = f"{c.swept.param} = {c.swept.value}{where}"
    return ClaimCell(
        n=c.n, delta=DASH if c.mean is None else points(c.mean), ci=ci, verdict=c.verdict,
        adjusted_verdict=c.adjusted_verdict or c.verdict, label=c.label,
        adjusted_label=c.adjusted_label, p_value=c.p_value,
        adjusted_p_value=c.adjusted_p_value, outcome=c.outcome, swept=swept)


def claim_rows(method_id: str, live: Iterable[Comparison] = (),
               reference: dict[str, Comparison] | None = None) -> list[ClaimRow]:
    """The method's claims in file order, each with its live and reference cells."""
    by_claim = {c.claim: c for c in live}
    reference = reference or {}
    rows = []
    for claim in METHODS[method_id].claims:
        rows.append(ClaimRow(
            id=claim.id, statement=Text(zh=claim.zh, en=claim.en),
            versus=Text(zh=claim.versus.zh, en=claim.versus.en), direction=claim.direction,
            margin=claim.margin, where=claim.where, source=claim.source,
            live=cell(by_claim[claim.id]) if claim.id in by_claim else None,
            reference=cell(reference[claim.id]) if claim.id in reference else None))
    return rows


def readjust(rows: Sequence[ClaimRow]) -> None:
    """Holm across the live cells of ``rows`` (a page's family), in place."""
    cells = [r.live for r in rows if r.live is not None]
    judged = adjust([{"p_value": c.p_value, "verdict": c.verdict,
                      "outcome": c.outcome} for c in cells])
    for c, j in zip(cells, judged, strict=True):
        c.adjusted_p_value = j["adjusted_p_value"]
        c.adjusted_verdict = j["adjusted_verdict"]
        c.adjusted_label = Text(**verdict_text(j["adjusted_verdict"]))


def intervals(rows: Iterable[ClaimRow]) -> int:
    """How many claim intervals ``rows`` show (live and reference)."""
    return sum(1 for r in rows for c in (r.live, r.reference) if c is not None and c.ci != DASH)


def chance(count: int) -> dict:
    return chance_of(count)


#: The families a page's intervals fall in, in both languages (how each is adjusted).
FAMILY_TEXT = {
    "live": {"zh": "最新运行的说法：{shown} 个区间，本页一个 Holm 族",
             "en": "the live claims: {shown} intervals, one Holm family across this page"},
    "reference": {"zh": "参考的说法：{shown} 个区间，属于参考复现的同一个 Holm 族（共 {family} "
                        "个：默认参数下的说法与笔记里的对比）",
                  "en": "the reference claims: {shown} intervals, of the reproduction's one "
                        "Holm family of {family} (its claims at the defaults and the notes' "
                        "comparisons)"},
    "sweep": {"zh": "参考的扫描点：{shown} 个区间，各在其扫描的 Holm 族里",
              "en": "reference sweep points: {shown} intervals, each in its sweep's Holm "
                    "family"},
    "extra": {"zh": "参考复现没有测的对比：{shown} 个区间，本页另成一个 Holm 族",
              "en": "comparisons the reproduction did not measure: {shown} intervals, a "
                    "Holm family of their own"},
    "control": {"zh": "各运行对自身对照的 Δ：{shown} 个区间，未校正",
                "en": "each run's Δ against its own control: {shown} intervals, unadjusted"},
}


def page_chance(families: dict[str, tuple[int, int]]) -> dict:
    """What chance alone gives for a page's intervals, family by family: ``families``
    maps a FAMILY_TEXT key to (intervals shown, intervals in its family). The
    counts of ``chance`` for all the shown intervals together, and a sentence that
    names every family, its size, and the false verdicts chance alone gives in it."""
    shown = {k: v for k, v in families.items() if v[0]}
    total = sum(n for n, _ in shown.values())
    out = chance_of(total)
    zh, en = [], []
    for key, (n, size) in shown.items():
        c = chance_of(size)
        fmt = {"shown": n, "family": size}
        zh.append(FAMILY_TEXT[key]["zh"].format(**fmt) + f"：若都毫无差别，偶然平均给出 "
                  f"{c['expected_false']:.1f} 个假结论（至少一个的概率 "
                  f"{round(100 * c['p_any_false'])}%）")
        en.append(FAMILY_TEXT[key]["en"].format(**fmt) + f": if nothing differed, chance "
                  f"alone would give {c['expected_false']:.1f} false verdicts "
                  f"({round(100 * c['p_any_false'])}% chance of at least one)")
    adjusted = [k for k in shown if k != "control"]
    zh_tail = "。Holm 校正后的结论把每个族里出现假结论的概率控制在 5% 以内。" if adjusted else "。"
    en_tail = (". The Holm-adjusted verdicts keep the chance of any false one in each "
               "family at 5% or less.") if adjusted else "."
    out["zh"] = f"本页有 {total} 个 95% 区间。" + "；".join(zh) + zh_tail
    out["en"] = f"{total} 95% intervals on this page. " + "; ".join(en) + en_tail
    out["families"] = {k: {"shown": n, "family": size} for k, (n, size) in shown.items()}
    return out
