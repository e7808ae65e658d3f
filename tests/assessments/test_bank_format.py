"""Banks as JSON: import, export, and validation errors that name question and field."""

import copy
import io
import json

import pytest

from assessments.bank_format import FORMAT
from assessments.bank_transfer import bank_export, bank_import
from assessments.models import Question, QuestionBank
from core.errors import ApplicationError
from tests.factories import code

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank_data():
    for name in ("DO-SPEED", "DO-DATA", "DO-PKEEP", "DO-ILLUSION"):
        code(name)
    return {
        "format": FORMAT,
        "slug": "mini",
        "title": "Mini bank",
        "questions": [
            {
                "slug": "mini-speed",
                "type": "single",
                "form": "A",
                "stem": "What is dropout for?",
                "probes": ["DO-SPEED"],
                "feedback": "It regularises.",
                "choices": [
                    {"text": "Regularisation", "correct": True},
                    {
                        "text": "Speed",
                        "correct": False,
                        "misconceptions": ["DO-SPEED"],
                        "feedback": "It is not faster.",
                    },
                ],
            },
            {
                "slug": "mini-active",
                "type": "numeric",
                "stem": "p = {p}: how many of 1000 stay?",
                "probes": ["DO-PKEEP"],
                "feedback": "(1-p)*1000.",
                "numeric": {
                    "parameters": {"p": [0.2, 0.3]},
                    "answer": "(1 - p) * 1000",
                    "tolerance": 0.5,
                    "distractors": [
                        {
                            "answer": "p * 1000",
                            "misconceptions": ["DO-PKEEP"],
                            "feedback": "Keep vs drop.",
                        }
                    ],
                },
            },
        ],
    }


def _problems(data):
    with pytest.raises(ApplicationError) as caught:
        bank_import(data)
    return caught.value.fields


def test_it_imports_and_exports_the_same_bank(bank_data):
    bank = bank_import(bank_data)
    exported = bank_export(bank)
    assert exported["slug"] == "mini"
    assert [q["slug"] for q in exported["questions"]] == ["mini-speed", "mini-active"]
    assert exported["questions"][1]["numeric"]["distractors"][0]["misconceptions"] == ["DO-PKEEP"]
    # re-importing the export is a no-op
    bank_import(exported)
    assert bank_export(QuestionBank.objects.get(slug="mini")) == exported


def test_reimport_keeps_choices_that_answers_point_to(bank_data):
    bank_import(bank_data)
    ids = list(Question.objects.get(slug="mini-speed").choices.values_list("id", flat=True))
    changed = copy.deepcopy(bank_data)
    changed["questions"][0]["choices"][1]["feedback"] = "Not faster: each step is as costly."
    bank_import(changed)
    assert list(Question.objects.get(slug="mini-speed").choices.values_list("id", flat=True)) == ids


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda d: d["questions"][0]["choices"][1].update(misconceptions=[]),
            "questions[0] 'mini-speed' choices[1].misconceptions",
            "must name the misconception",
        ),
        (
            lambda d: d["questions"][0]["choices"][1].update(feedback=""),
            "questions[0] 'mini-speed' choices[1].feedback",
            "needs feedback",
        ),
        (
            lambda d: d["questions"][0]["choices"][1].update(misconceptions=["DO-NOPE"]),
            "questions[0] 'mini-speed' choices[1].misconceptions",
            "Unknown misconception code 'DO-NOPE'",
        ),
        (
            lambda d: d["questions"][0]["choices"][1].update(correct=True),
            "questions[0] 'mini-speed' choices",
            "exactly one choice correct",
        ),
        (
            lambda d: d["questions"][0].update(type="essay"),
            "questions[0] 'mini-speed' type",
            "not a valid choice",
        ),
        (lambda d: d["questions"][0].pop("stem"), "questions[0] 'mini-speed' stem", "required"),
        (
            lambda d: d["questions"][1]["numeric"].update(answer="(1 - q) * 1000"),
            "questions[1] 'mini-active' numeric.answer",
            "cannot evaluate",
        ),
        (
            lambda d: d["questions"][1].update(stem="How many of 1000 stay?"),
            "questions[1] 'mini-active' stem",
            "Placeholders",
        ),
        (
            lambda d: d["questions"][1]["numeric"].update(tolerance=-1),
            "questions[1] 'mini-active' numeric.tolerance",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["questions"][1].update(slug="mini-speed"),
            "questions[1] 'mini-speed' slug",
            "already used by questions[0]",
        ),
        (lambda d: d.update(format="other/9"), "format", "not a valid choice"),
    ],
)
def test_validation_names_the_question_and_the_field(bank_data, change, field, message):
    change(bank_data)
    problems = _problems(bank_data)
    assert field in problems, problems
    assert message in problems[field]
    assert not QuestionBank.objects.filter(slug="mini").exists()


def test_an_explain_item_needs_a_model_answer_and_key_ideas(bank_data):
    bank_data["questions"].append(
        {
            "slug": "mini-explain",
            "type": "explain",
            "stem": "Explain.",
            "probes": ["DO-ILLUSION"],
            "feedback": "f",
        }
    )
    problems = _problems(bank_data)
    assert set(problems) == {
        "questions[2] 'mini-explain' model_answer",
        "questions[2] 'mini-explain' key_ideas",
    }


def _with_explain(bank_data, criteria):
    bank_data["questions"].append(
        {
            "slug": "mini-explain",
            "type": "explain",
            "stem": "Explain what dropout does and why it is not faster.",
            "probes": ["DO-ILLUSION", "DO-SPEED"],
            "feedback": "f",
            "model_answer": "Units are dropped at random; it is not faster.",
            "key_ideas": ["Units are dropped at random", "It is not faster"],
            "key_idea_probes": [["DO-DATA"], ["DO-SPEED"]],
            "key_idea_criteria": criteria,
        }
    )
    return bank_data


CRITERIA = [
    {"must_say": [["random\\w*", "by chance"], ["drop\\w*"]]},
    {
        "must_say": [["{neg} {gap:3} faster"]],
        "must_not_claim": [{"pattern": "(?:is|are) faster", "code": "DO-SPEED"}],
    },
]


def test_key_idea_criteria_are_imported_and_exported_unchanged(bank_data):
    # given/when
    bank = bank_import(_with_explain(bank_data, CRITERIA))
    exported = bank_export(bank)
    # then: stored with every key, and the export re-imports as itself
    stored = Question.objects.get(slug="mini-explain").key_idea_criteria
    assert stored == [{**CRITERIA[0], "must_not_claim": []}, CRITERIA[1]]
    assert exported["questions"][2]["key_idea_criteria"] == stored
    bank_import(exported)
    assert bank_export(QuestionBank.objects.get(slug="mini")) == exported


@pytest.mark.parametrize(
    ("criteria", "field", "message"),
    [
        (CRITERIA[:1], "key_idea_criteria", "one entry per key idea: 2 key ideas, 1 entries"),
        (
            [{"must_say": [[]]}, CRITERIA[1]],
            "key_idea_criteria[0].must_say[0]",
            "An empty group",
        ),
        ([{"must_say": []}, CRITERIA[1]], "key_idea_criteria[0].must_say", "at least one group"),
        (
            [{"must_say": [["random", "(unclosed"]]}, CRITERIA[1]],
            "key_idea_criteria[0].must_say[0][1]",
            "Not a valid regular expression: missing ), unterminated subpattern",
        ),
        (
            [{"must_say": [["(a+)+b"]]}, CRITERIA[1]],
            "key_idea_criteria[0].must_say[0][0]",
            "Only '?' may follow a group",
        ),
        (
            [
                CRITERIA[0],
                {"must_say": [["x"]], "must_not_claim": [{"pattern": "y", "code": "DO-NOPE"}]},
            ],
            "key_idea_criteria[1].must_not_claim[0].code",
            "Unknown misconception code 'DO-NOPE'",
        ),
        (
            [
                CRITERIA[0],
                {"must_say": [["x"]], "must_not_claim": [{"pattern": "y", "code": "DO-PKEEP"}]},
            ],
            "key_idea_criteria[1].must_not_claim[0].code",
            "DO-PKEEP is probed neither by the item nor by this key idea (key_idea_probes[1])",
        ),
        (
            [
                CRITERIA[0],
                {"must_say": [["x"]], "must_not_claim": [{"pattern": "", "code": "DO-SPEED"}]},
            ],
            "key_idea_criteria[1].must_not_claim[0].pattern",
            "may not be blank",
        ),
        (
            [{"must_say": [["x"]], "must_sey": [["y"]]}, CRITERIA[1]],
            "key_idea_criteria[0].must_sey",
            "Unknown key",
        ),
    ],
)
def test_bad_criteria_are_refused_naming_the_item_and_the_field(
    bank_data, criteria, field, message
):
    problems = _problems(_with_explain(bank_data, criteria))
    named = f"questions[2] 'mini-explain' {field}"
    assert named in problems, problems
    assert message in problems[named]
    assert not QuestionBank.objects.filter(slug="mini").exists()


def test_only_explain_items_take_criteria(bank_data):
    bank_data["questions"][0]["key_idea_criteria"] = CRITERIA
    assert "questions[0] 'mini-speed' key_idea_criteria" in _problems(bank_data)


def test_the_admin_imports_and_exports_banks(admin_client, bank_data):
    # given: an invalid file
    broken = copy.deepcopy(bank_data)
    broken["questions"][0]["choices"][1]["misconceptions"] = []
    upload = io.BytesIO(json.dumps(broken).encode())
    upload.name = "mini.json"
    response = admin_client.post("/admin/assessments/questionbank/import/", {"file": upload})
    # then: every problem is listed and nothing is imported
    assert response.status_code == 400
    assert (
        "questions[0] &#x27;mini-speed&#x27; choices[1].misconceptions" in response.content.decode()
    )
    assert not QuestionBank.objects.exists()
    # when: a valid file
    upload = io.BytesIO(json.dumps(bank_data).encode())
    upload.name = "mini.json"
    response = admin_client.post("/admin/assessments/questionbank/import/", {"file": upload})
    assert response.status_code == 302
    bank = QuestionBank.objects.get(slug="mini")
    exported = admin_client.post(
        "/admin/assessments/questionbank/", {"action": "export_json", "_selected_action": [bank.id]}
    )
    assert exported["Content-Disposition"] == 'attachment; filename="mini.json"'
    assert json.loads(exported.content)["questions"][0]["slug"] == "mini-speed"


def test_the_admin_refuses_a_file_that_is_not_json(admin_client):
    upload = io.BytesIO(b"\x89PNG not json")
    upload.name = "bank.json"
    response = admin_client.post("/admin/assessments/questionbank/import/", {"file": upload})
    assert response.status_code == 400
    assert "Not a JSON file" in response.content.decode()
