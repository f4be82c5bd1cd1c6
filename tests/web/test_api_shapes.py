"""The catalog's JSON routes have response models: the OpenAPI document names each
shape (so the fuzz tests check bodies, not only that they are objects), no field of
a paper is lost on the way out, and a body off its shape is an error, not a 200."""

from __future__ import annotations

from dataclasses import fields

import pytest
from fastapi.testclient import TestClient

from app.catalog.models import Paper
from app.main import create_app
from app.settings import Settings
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


def test_a_body_off_its_shape_is_a_server_error(seed_notes, tmp_path, monkeypatch):
    def broken(paper):
        return {"slug": paper.slug, "year": "soon"}

    monkeypatch.setattr(api, "paper_summary_json", broken)
    settings = Settings(notes_dir=seed_notes, data_dir=tmp_path, run_warm_workers=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/api/papers").status_code == 500
