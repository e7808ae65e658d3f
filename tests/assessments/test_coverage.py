"""Every code a choice, distractor, key idea or grader check names is in the catalogue, and
the README's coverage table is what `misconception_coverage` prints for the catalogue."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from assessments.catalog import catalog_load
from grader.exercises import EXERCISES, misconception_checks

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
README = Path(settings.BASE_DIR) / "README.md"
BEGIN, END = "<!-- coverage table: begin -->", "<!-- coverage table: end -->"


def _catalogue_codes() -> set[str]:
    return {m["code"] for m in json.loads((FIXTURES / "misconceptions.json").read_text())}


def _named_in_banks():
    """Yield (where, code) for every code any bank file names."""
    for path in sorted((FIXTURES / "banks").glob("*.json")):
        bank = json.loads(path.read_text())
        for question in bank["questions"]:
            where = f"{path.name} {question['slug']}"
            for code in question["probes"]:
                yield f"{where} probes", code
            for index, choice in enumerate(question.get("choices", [])):
                for code in choice["misconceptions"]:
                    yield f"{where} choices[{index}]", code
            for index, distractor in enumerate(question.get("numeric", {}).get("distractors", [])):
                for code in distractor["misconceptions"]:
                    yield f"{where} distractors[{index}]", code
            for index, codes in enumerate(question.get("key_idea_probes", [])):
                for code in codes:
                    yield f"{where} key_idea_probes[{index}]", code


def test_every_code_a_bank_names_is_in_the_catalogue():
    known = _catalogue_codes()
    unknown = [(where, code) for where, code in _named_in_banks() if code not in known]
    assert not unknown


def test_every_code_a_grader_check_names_is_in_the_catalogue():
    known = _catalogue_codes()
    declared = misconception_checks()
    assert declared  # the checks do name misconceptions
    assert set(declared) <= known, sorted(set(declared) - known)
    for slug, exercise in EXERCISES.items():
        for check_id, codes in exercise.check_codes.items():
            assert set(codes) <= known, (slug, check_id)


def test_the_catalogue_check_fails_on_an_unknown_code(tmp_path, monkeypatch):
    # given a bank that names a code the catalogue lacks
    bank = {
        "questions": [
            {"slug": "q", "probes": ["DO-NOPE"], "choices": [], "key_idea_probes": []},
        ]
    }
    (tmp_path / "banks").mkdir()
    (tmp_path / "banks" / "bad.json").write_text(json.dumps(bank))
    (tmp_path / "misconceptions.json").write_text(json.dumps([{"code": "DO-SPEED"}]))
    monkeypatch.setattr(f"{__name__}.FIXTURES", tmp_path)
    # then the check names it
    with pytest.raises(AssertionError):
        test_every_code_a_bank_names_is_in_the_catalogue()


@pytest.mark.django_db
def test_the_readme_coverage_table_is_the_catalogues():
    catalog_load()
    out = StringIO()
    call_command("misconception_coverage", stdout=out)
    text = README.read_text()
    assert BEGIN in text and END in text, "the README lost its coverage table markers"
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert shown == out.getvalue().strip(), (
        "The README's coverage table is out of date: paste the output of "
        "`python manage.py misconception_coverage` between its markers."
    )


@pytest.mark.django_db
def test_every_catalogue_code_is_named_by_something():
    catalog_load()
    out, err = StringIO(), StringIO()
    call_command("misconception_coverage", stdout=out, stderr=err)
    assert err.getvalue() == ""
