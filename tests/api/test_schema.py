"""The OpenAPI schema: generated from the code without warnings, served, and complete."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

AUDIENCES = {"learners", "grader", "analytics", "lms"}


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_it_generates_and_validates_without_a_single_warning(tmp_path: Path):
    # --fail-on-warn turns every "unable to guess serializer" and name collision into an error
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert len(schema["paths"]) >= 17


def test_every_operation_has_an_audience_a_typed_success_and_the_error_shape():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, method, operation in _operations(schema):
        where = f"{method.upper()} {path}"
        assert len(operation["tags"]) == 1, where
        assert operation["tags"][0] in AUDIENCES, where
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert successes, where
        for code in successes:
            if code == "204":  # No Content
                assert "content" not in operation["responses"][code], where
                continue
            for media in operation["responses"][code]["content"].values():
                assert media.get("schema"), f"{where} {code} has no schema"
        errors = [code for code in operation["responses"] if code[0] in "45"]
        assert errors, f"{where} documents no error response"
        for code in errors:
            content = operation["responses"][code]["content"]
            assert content == {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
            }, f"{where} {code}"


def test_the_analytics_exports_document_their_choices_and_the_csv_media_type():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/quizzes/{quiz_id}/responses/"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert set(parameters["format"]["enum"]) == {"json", "csv"}
    assert set(parameters["attempts"]["enum"]) == {"first", "last", "highest", "all"}
    assert parameters["page"]["minimum"] == 1
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}


@pytest.mark.django_db
def test_it_is_served_at_api_v1_schema(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/attempts/{attempt_id}/responses/{slot}/" in response.json()["paths"]
