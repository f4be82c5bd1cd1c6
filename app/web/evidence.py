"""Evidence on the notes: each paper's claims (its methods' files) and its note's
comparisons (`对比:` bullets), judged twice: on the committed 10-seed reference
(`docs/reproduction.json`) and on the latest live run of this server, each labelled.

The reference pairs by seed across rows: every row of the file trained seeds 0-9,
so a method's student and a comparator's student at its defaults saw the same
splits, initial weights and batches (the issue's "reuse a stored run of the
comparator at its default parameters on the same seeds"). A comparator the file has
no row for gives no verdict, with the reason. The reference judgements are
Holm-adjusted once across every claim and comparison of the catalog (the family a
reader browses); a paper page's live ones across that page's.

A paper's **evidence** (the catalog facet and sort, /evidence) comes from the
reference: contradicted if any of its claims is (after Holm), else supported if any
is, else not shown at this scale; no demo when it has no method.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from app.catalog.catalog import Catalog
from app.catalog.models import Paper
from app.catalog.query import EvidenceIndex
from app.distill import claims
from app.distill.events import Summary
from app.distill.methods import METHODS
from app.runs import RunManager
from app.web.bindings import BoundComparison, paper_comparisons, paper_methods
from app.web.claim_views import page_chance
from app.web.method_rows import latest_default_run
from app.web.reproduction import REPRODUCTION_JSON, reference

EVIDENCE = ("supported", "contradicted", "not_shown", "no_demo")
#: {key: {"zh", "en"}}: the facet's words.
EVIDENCE_TEXT = {
    "supported": {"zh": "得到支持", "en": "supported"},
    "contradicted": {"zh": "被推翻", "en": "contradicted"},
    "not_shown": {"zh": "此规模下未能显示", "en": "not shown at this scale"},
    "no_demo": {"zh": "没有演示", "en": "no demo"},
}
SOURCE_TEXT = {
    "reference": {"zh": "参考复现（10 个种子，Holm 校正）",
                  "en": "reference (10 seeds, Holm-adjusted)"},
    "live": {"zh": "本服务器最新运行", "en": "latest live run here"},
}


# -- the reference ---------------------------------------------------------------------


@lru_cache(maxsize=4)
def _reference_rows(mtime: float) -> dict[str, Any]:
    try:
        data = json.loads(REPRODUCTION_JSON.read_text(encoding="utf-8"))
        methods = data["methods"]
        variants = data.get("variants", [])
        if not isinstance(methods, dict) or not isinstance(variants, list):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        return {"methods": {}, "variants": [], "judged": {}}
    return {"methods": methods, "variants": variants, "judged": _file_judgements(data)}


def _file_judgements(data: dict) -> dict[str, dict]:
    """The reproduction's own judgements, by key, each with its ``family``: the claims
    at defaults (by claim id) and the notes' comparisons (by "a vs b"), adjusted in
    its one family; a conditional claim, by its id, from its sweep's point at the
    method's default (adjusted across that sweep)."""
    out: dict[str, dict] = {}
    for key, kind in (("claims", "claim"), ("comparisons", "comparison")):
        raws = data.get(key)
        for j in raws if isinstance(raws, list) else []:
            if isinstance(j, dict) and isinstance(j.get(kind), str):
                out[j[kind]] = j | {"family": "reference"}
    sweeps = data.get("sweeps")
    for sweep in sweeps if isinstance(sweeps, list) else []:
        method = METHODS.get(sweep.get("method")) if isinstance(sweep, dict) else None
        if method is None or sweep.get("claim") in out:
            continue
        default = method.params().model_dump().get(sweep.get("param"))
        for j in sweep.get("points") or []:
            if isinstance(j, dict) and (j.get("swept") or {}).get("value") == default:
                out[sweep["claim"]] = j | {"family": "sweep"}
    return out


def reference_rows() -> dict[str, Any]:
    try:
        mtime = REPRODUCTION_JSON.stat().st_mtime
    except OSError:
        return {"methods": {}, "variants": [], "judged": {}}
    return _reference_rows(mtime)


def _values(row: Any, arm: str) -> list[float] | None:
    values = row.get(arm, {}).get("values") if isinstance(row, dict) else None
    ok = isinstance(values, list) and all(isinstance(v, int | float) for v in values)
    return values if ok and values else None


def _student(method: str, params: dict[str, Any]) -> list[float] | None:
    """A method's per-seed reference student: its default row, or the variant row
    that changes exactly `params`."""
    rows = reference_rows()
    if not params:
        return _values(rows["methods"].get(method), "student")
    for row in rows["variants"]:
        if isinstance(row, dict) and row.get("method") == method and row.get("over") == params:
            return _values(row, "student")
    return None


def _paired(mine: list[float] | None, theirs: list[float] | None) -> list[float] | None:
    if mine is None or theirs is None or len(mine) != len(theirs):
        return None
    return [a - b for a, b in zip(mine, theirs, strict=True)]


def _claim_deltas(method_id: str, claim: claims.Claim) -> list[float] | None:
    mine = _student(method_id, {})
    if claim.versus.method is None:
        row = reference_rows()["methods"].get(method_id)
        return _paired(mine, _values(row, claim.versus.model))
    return _paired(mine, _student(claim.versus.method, claim.versus.params))


def _comparison_deltas(bound: BoundComparison) -> list[float] | None:
    return _paired(_student(bound.method.ref.method, bound.method.ref.params_dict),
                   _student(bound.against.ref.method, bound.against.ref.params_dict))


def comparison_claim(bound: BoundComparison) -> claims.Claim:
    """A note's `对比: a vs b` as the claim it is judged as: a beats b."""
    a, b = str(bound.method.ref), str(bound.against.ref)
    return claims.Claim(
        id=f"note:{bound.note.line}:{a} vs {b}", paper="", where="the notes",
        zh=f"{a} 优于 {b}（笔记里的对比）", en=f"{a} beats {b} (a comparison in the notes)",
        versus=claims.Versus(method=bound.against.ref.method,
                             params=bound.against.ref.params_dict, zh=b, en=b),
        direction="better",
    )


def _catalog_items(catalog: Catalog) -> list[tuple[str, str, claims.Claim]]:
    """(key, key in the reproduction, claim) for every claim of every method and
    every note comparison, once each."""
    items: dict[str, tuple[str, str, claims.Claim]] = {}
    for method in METHODS.values():
        for claim in method.claims:
            items[claim.id] = (claim.id, claim.id, claim)
    for paper in catalog.papers.values():
        for bound in paper_comparisons(paper):
            claim = comparison_claim(bound)
            items.setdefault(claim.id, (claim.id, str(bound.note), claim))
    return list(items.values())


def _extra_deltas(claim: claims.Claim, catalog: Catalog) -> list[float] | None:
    for paper in catalog.papers.values():
        for bound in paper_comparisons(paper):
            if comparison_claim(bound).id == claim.id:
                return _comparison_deltas(bound)
    method_id = next((m.id for m in METHODS.values() if claim in m.claims), None)
    return _claim_deltas(method_id, claim) if method_id else None


def reference_judgements(catalog: Catalog) -> dict[str, dict]:
    """Every claim's and comparison's reference judgement, labelled, by claim id, with
    its ``family``: the reproduction's own where it measured it (its one family, or a
    sweep's), so every page reads the same adjusted verdict; the rest (a comparison
    the reproduction did not measure) judged here from its rows, Holm across
    themselves (``extra``). Computed once per catalog and reference file."""
    key = ("evidence", REPRODUCTION_JSON.stat().st_mtime if REPRODUCTION_JSON.exists() else 0)
    if key not in catalog.derived:
        judged_there = reference_rows().get("judged", {})
        out, extra = {}, []
        for k, file_key, claim in _catalog_items(catalog):
            if file_key in judged_there:
                out[k] = claims.labelled(judged_there[file_key])
            else:
                extra.append((k, claims.judged(claim, _extra_deltas(claim, catalog))))
        adjusted = claims.adjust([j for _, j in extra])
        for (k, _), j in zip(extra, adjusted, strict=True):
            out[k] = claims.labelled(j) | {"family": "extra"}
        catalog.derived[key] = out
    return catalog.derived[key]


# -- one paper ---------------------------------------------------------------------------


def _same_paper(claim: claims.Claim, paper: Paper) -> bool:
    squash = "".join(ch for ch in claim.paper.casefold() if ch.isalnum())
    title = "".join(ch for ch in paper.title.casefold() if ch.isalnum())
    return claim.paper == paper.arxiv_id or (bool(squash) and squash == title)


def paper_claims(paper: Paper) -> list[tuple[str, claims.Claim]]:
    """(method id, claim) for the claims of the paper's methods that this paper makes;
    all its methods' claims when none names it (a method bound by the note alone)."""
    found = [(m.id, c) for m in paper_methods(paper) for c in m.claims]
    own = [(m, c) for m, c in found if _same_paper(c, paper)]
    return own or found


def _live_claim_deltas(summary: Summary | None, claim: claims.Claim) -> list[float] | None:
    """A claim's Δ in a run's summary: its `comparisons` (when the trainer judged
    it) or the per-seed arms (student − the comparator's arm)."""
    if summary is None:
        return None
    for judged in summary.comparisons:
        if judged.claim == claim.id:
            return judged.deltas or None
    student, other = summary.per_seed.get("student"), summary.per_seed.get(claim.versus.arm)
    if student is None or other is None:
        return None
    return _paired(student.test_acc, other.test_acc)


def _latest_versus_run(runs: RunManager, bound: BoundComparison):
    wanted = {"method": bound.against.ref.method,
              "params": {k: v for k, v in bound.against.params.model_dump(mode="json").items()
                         if k in bound.against.ref.params_dict}}
    own = bound.method.ref.params_dict
    for record in runs.list_runs(methods={bound.method.ref.method}, status="succeeded",
                                 limit=200):
        params = record.params or {}
        if params.get("versus") == wanted and all(params.get(k) == v for k, v in own.items()):
            return record
    return None


def _launch_params(bound: BoundComparison) -> dict[str, Any]:
    """The params a Run button posts for a note's comparison."""
    against = {k: v for k, v in bound.against.params.model_dump(mode="json").items()
               if k in bound.against.ref.params_dict}
    return {**bound.method.ref.params_dict,
            "versus": {"method": bound.against.ref.method, "params": against}}


def paper_evidence(catalog: Catalog, paper: Paper, runs: RunManager | None = None) -> dict:
    """The paper page's evidence block: its claims and its note's comparisons, each
    with the reference judgement and the latest live one (adjusted across the page)."""
    reference = reference_judgements(catalog)
    items: list[dict[str, Any]] = []
    live_judged: list[dict] = []
    for method_id, claim in paper_claims(paper):
        record = latest_default_run(runs, method_id) if runs is not None else None
        deltas = _live_claim_deltas(record.summary, claim) if record is not None else None
        items.append({"kind": "claim", "method": method_id, "claim": claim,
                      "sentence": claims.sentence(claim, method_id),
                      "reference": reference.get(claim.id), "run": record, "launch": None})
        live_judged.append(claims.judged(claim, deltas) if record is not None else None)
    for bound in paper_comparisons(paper):
        claim = comparison_claim(bound)
        record = _latest_versus_run(runs, bound) if runs is not None else None
        versus = record.summary.versus if record is not None and record.summary else None
        deltas = versus.delta.deltas if versus is not None else None
        items.append({"kind": "note", "method": bound.method.ref.method, "claim": claim,
                      "sentence": {"zh": claim.zh, "en": claim.en}, "line": bound.note.line,
                      "reference": reference.get(claim.id), "run": record,
                      "launch": _launch_params(bound)})
        live_judged.append(claims.judged(claim, deltas) if record is not None else None)
    family = [j for j in live_judged if j is not None]
    adjusted = iter(claims.adjust(family))
    for item, j in zip(items, live_judged, strict=True):
        item["live"] = claims.labelled(next(adjusted)) if j is not None else None
    return {"rows": items, "evidence": evidence_of(catalog, paper),
            "sources": SOURCE_TEXT, "chance": page_families(catalog, items)}


def page_families(catalog: Catalog, items: list[dict]) -> dict | None:
    """What chance alone gives for the page's intervals, family by family (None when
    it shows none)."""
    def shown(js) -> int:
        return sum(1 for j in js if j is not None and j.get("p_value") is not None)

    refs = [row["reference"] for row in items if row["reference"] is not None]
    extra = shown(j for j in reference_judgements(catalog).values()
                  if j.get("family") == "extra")
    families = {
        "live": (shown(row["live"] for row in items),) * 2,
        "reference": (shown(j for j in refs if j.get("family") == "reference"),
                      reference_family_size()),
        "sweep": (shown(j for j in refs if j.get("family") == "sweep"),) * 2,
        "extra": (shown(j for j in refs if j.get("family") == "extra"), extra),
    }
    return page_chance(families) if any(n for n, _ in families.values()) else None


def reference_family_size() -> int:
    return reference().family


def evidence_of(catalog: Catalog, paper: Paper) -> str:
    """The paper's evidence key, from the reference (see the module's docstring)."""
    if not paper_methods(paper):
        return "no_demo"
    reference = reference_judgements(catalog)
    keys = [c.id for _, c in paper_claims(paper)]
    keys += [comparison_claim(b).id for b in paper_comparisons(paper)]
    verdicts = {reference[k]["adjusted_verdict"] for k in keys if k in reference}
    if "contradicted" in verdicts:
        return "contradicted"
    return "supported" if "supported" in verdicts else "not_shown"


def evidence_index(catalog: Catalog) -> EvidenceIndex:
    """Every paper's evidence key, for the catalog's facet and sort (once per parse
    and reference file)."""
    key = ("evidence-index", REPRODUCTION_JSON.stat().st_mtime if REPRODUCTION_JSON.exists()
           else 0)
    if key not in catalog.derived:
        catalog.derived[key] = EvidenceIndex(
            by_slug={slug: evidence_of(catalog, p) for slug, p in catalog.papers.items()},
            labels={k: f"{EVIDENCE_TEXT[k]['zh']} · {EVIDENCE_TEXT[k]['en']}" for k in EVIDENCE},
        )
    return catalog.derived[key]


def _judgement_json(j: dict | None) -> dict | None:
    if j is None:
        return None
    keep = ("mean", "ci_low", "ci_high", "n", "p_value", "adjusted_p_value", "verdict",
            "adjusted_verdict", "reason", "label", "adjusted_label", "family")
    return {k: j.get(k) for k in keep}


def evidence_json(evidence: dict) -> dict:
    """The paper page's evidence block as its JSON twin gives it."""
    return {
        "evidence": evidence["evidence"],
        "claims": [{
            "claim": row["claim"].id, "kind": row["kind"], "method": row["method"],
            "statement": {"zh": row["claim"].zh, "en": row["claim"].en},
            "versus": {"method": row["claim"].versus.method,
                       "params": row["claim"].versus.params,
                       "zh": row["claim"].versus.zh, "en": row["claim"].versus.en},
            "direction": row["claim"].direction, "where": row["claim"].where,
            "reference": _judgement_json(row["reference"]),
            "live": _judgement_json(row["live"]) and {
                **_judgement_json(row["live"]), "run_id": row["run"].id},
            "launch": row["launch"],
        } for row in evidence["rows"]],
    }
