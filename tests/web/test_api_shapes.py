"""The catalog's JSON routes have response models: the OpenAPI document names each
shape (so the fuzz tests check bodies, not only that they are objects), every body
is exactly its shape, and no field of a paper is left out of the models."""

from __future__ import annotations

from dataclasses import fields

import pytest
from pydantic import TypeAdapter, ValidationError

from app.catalog.models import Paper, RatingLevel
from app.web import api

ROUTES = {
    "/api/papers": {"$ref": "#/components/schemas/PaperList"},
    "/api/papers/{slug}": {"$ref": "#/components/schemas/PaperOut"},
    "/api/categories": {"$ref": "#/components/schemas/CategoryOut"},
    "/api/rating-scale": {"$ref": "#/components/schemas/RatingLevel"},
}
PAPER_FIELDS = {f.name for f in fields(Paper)}


def response_schema(client, path: str) -> dict:
    operation = client.get("/openapi.json").json()["paths"][path]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return schema.get("items", schema)  # a list's items, or the object itself


@pytest.mark.parametrize("path", ROUTES)
def test_each_catalog_route_documents_its_shape(client, path):
    assert response_schema(client, path) == ROUTES[path]


def test_the_documented_shapes_require_their_fields(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"slug", "note_demos", "url_path"} <= set(schemas["PaperSummary"]["required"])
    assert {"demos", "notes_html", "bibtex"} <= set(schemas["PaperOut"]["required"])
    assert set(schemas["DemoLink"]["required"]) == {"id", "title", "url"}
    assert set(schemas["Facets"]["required"]) == {"rating", "min_rating", "category", "venue",
                                                  "year"}  # fmt: skip


def test_no_field_of_a_paper_is_dropped_by_the_models(client):
    # A response model keeps only its own fields: a new Paper field missing from the
    # model would vanish from the JSON without a word.
    assert not PAPER_FIELDS - {"notes_html"} - set(api.PaperSummary.model_fields)
    assert not PAPER_FIELDS - set(api.PaperOut.model_fields)
    listed = client.get("/api/papers").json()["papers"][0]
    assert set(listed) == set(api.PaperSummary.model_fields)
    detail = client.get("/api/papers/1503.02531").json()
    assert set(detail) == set(api.PaperOut.model_fields)
    assert detail["demos"] == [
        {"id": "kd", "title": "Knowledge distillation (Hinton et al.)", "url": "/methods/kd"}
    ]


BODIES = [
    (api.PaperList, "/api/papers"),
    (api.PaperList, "/api/papers?min_rating=4&sort=year&per_page=3&page=2"),
    (api.PaperList, "/api/papers?q=nothing-matches-this"),
    (api.PaperOut, "/api/papers/1911.09418"),  # shares a note, mentions, a demo
    (api.PaperOut, "/api/papers/1706.00384"),  # the last of its category: no next
    (list[api.CategoryOut], "/api/categories"),
    (list[RatingLevel], "/api/rating-scale"),
]


@pytest.mark.parametrize(("shape", "url"), BODIES)
def test_each_body_is_exactly_its_documented_shape(client, shape, url):
    # The routes serialise once and leave their response models to the docs, so the
    # shape is held here: strictly valid, and nothing outside the model (the round
    # trip through the model would drop it).
    body = client.get(url)
    assert body.status_code == 200
    adapter = TypeAdapter(shape)
    parsed = adapter.validate_json(body.content, strict=True)
    assert adapter.dump_python(parsed, mode="json") == body.json()


def test_a_body_off_its_shape_fails_that_check(client, monkeypatch):
    monkeypatch.setattr(api, "paper_summary_json", lambda p: {"slug": p.slug, "year": "soon"})
    body = client.get("/api/papers").content
    with pytest.raises(ValidationError):
        TypeAdapter(api.PaperList).validate_json(body, strict=True)
