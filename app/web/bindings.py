"""Which demos a paper has: the registry's binding (arXiv id, title) joined with the
note's own `演示: kd` bullet, and the registry's reading of the note's `对比:` bullets.
Every page, JSON route and `notes check` asks here, so they agree."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from app.catalog.catalog import Catalog
from app.catalog.models import Diagnostic, MethodRef, NoteComparison, Paper
from app.distill.methods import METHODS, Method, methods_for_paper  # torch-free by contract

# A side of a comparison is a method at some parameters; the seeds are the run's, the
# same for both sides (that is what pairs them), so a side may not set its own.
RUN_LEVEL = frozenset({"seed", "seeds"})


def registry_diagnostics(catalog: Catalog) -> list[Diagnostic]:
    """The parser's diagnostics and what only the registry can tell (a demo or a
    comparison naming an unknown method or parameter), in file:line order."""
    found = [*catalog.diagnostics, *catalog.unknown_demos(METHODS)]
    found += catalog.bad_comparisons(check_ref)
    return sorted(found, key=lambda d: (d.file, d.line))


def paper_methods(paper: Paper) -> list[Method]:
    """The paper's demo methods in registry order; ids the registry lacks are left
    out here (`python -m app notes check` reports them)."""
    return methods_for_paper(paper.arxiv_id, paper.title, demos=paper.demo_ids)


def method_url(method: Method) -> str:
    return f"/methods/{method.id}"


def _error_text(ref: MethodRef, method: Method, exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            known = ", ".join(n for n in method.params.model_fields if n not in RUN_LEVEL)
            parts.append(f"{ref.method} has no parameter {name!r}; its parameters: {known}")
        else:
            parts.append(f"{ref.method}({name}={ref.params_dict.get(name)!r}): {error['msg']}")
    return "; ".join(parts)


def check_ref(ref: MethodRef) -> str | None:
    """Why the registry refuses this side of a comparison, or None when it accepts it:
    an unknown method id, an unknown or run-level parameter, a value out of bounds."""
    method = METHODS.get(ref.method)
    if method is None:
        return f"unknown method {ref.method!r}; known: {', '.join(METHODS)}"
    run_level = sorted(RUN_LEVEL & set(ref.params_dict))
    if run_level:
        return f"{ref.method}: {', '.join(run_level)} belong to the run, not to one side"
    try:
        method.params(**ref.params_dict)
    except ValidationError as exc:
        return _error_text(ref, method, exc)
    return None


@dataclass(frozen=True)
class BoundSide:
    """A side the registry accepts: its method, and its parameters validated (the
    method's defaults filled in), with only those the note set kept apart."""

    ref: MethodRef
    method: Method
    params: BaseModel

    @property
    def label(self) -> str:
        return str(self.ref)


@dataclass(frozen=True)
class BoundComparison:
    note: NoteComparison
    method: BoundSide
    against: BoundSide


def _bind(ref: MethodRef) -> BoundSide:
    method = METHODS[ref.method]
    return BoundSide(ref, method, method.params(**ref.params_dict))


def paper_comparisons(paper: Paper) -> list[BoundComparison]:
    """The note's comparisons the registry accepts, in the note's order; the rest are
    left out here (`python -m app notes check` reports them with file:line)."""
    return [
        BoundComparison(c, _bind(c.method), _bind(c.against))
        for c in paper.note_comparisons
        if check_ref(c.method) is None and check_ref(c.against) is None
    ]
