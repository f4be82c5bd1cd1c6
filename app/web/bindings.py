"""Which demos a paper has: the registry's binding (arXiv id, title) joined with the
note's own `演示: kd` bullet. Every page and JSON route asks here, so they agree."""

from __future__ import annotations

from app.catalog.models import Paper
from app.distill.methods import Method, methods_for_paper  # torch-free by contract


def paper_methods(paper: Paper) -> list[Method]:
    """The paper's demo methods in registry order; ids the registry lacks are left
    out here (`python -m app notes check` reports them)."""
    return methods_for_paper(paper.arxiv_id, paper.title, demos=paper.demo_ids)


def method_url(method: Method) -> str:
    return f"/methods/{method.id}"
