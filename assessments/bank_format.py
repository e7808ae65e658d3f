"""A question bank as JSON (the fixture format) and its validation; bank_transfer imports
and exports it.

Validation collects every problem before anything is written, and names each by the
question's position and slug and the field, e.g.
`questions[3] 'speed-purpose-2' choices[1].misconceptions: Unknown code 'DO-FOO'.`
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from assessments.explanation_reading import (
    MAX_CLAIMS,
    MAX_GROUPS,
    MAX_PATTERNS_PER_GROUP,
    pattern_problem,
)
from assessments.models import (
    CHOICE_TYPES,
    Misconception,
    Question,
    QuestionType,
)
from assessments.numeric import ExpressionError, expression_evaluate, stem_placeholders
from core.errors import ApplicationError, error_fields
from core.inputs import int_field
from grader.exercises import EXERCISES

FORMAT = "dropout-quiz-bank/1"


class ChoiceFormat(serializers.Serializer[Any]):
    text = serializers.CharField()
    correct = serializers.BooleanField()
    tier = serializers.IntegerField(min_value=1, max_value=2, default=1)
    misconceptions = serializers.ListField(child=serializers.CharField(), default=list)
    feedback = serializers.CharField(allow_blank=True, default="")


class DistractorFormat(serializers.Serializer[Any]):
    answer = serializers.CharField(max_length=200)
    misconceptions = serializers.ListField(child=serializers.CharField(), min_length=1)
    feedback = serializers.CharField()


class NumericFormat(serializers.Serializer[Any]):
    parameters = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=1), default=dict
    )
    answer = serializers.CharField(max_length=200)
    tolerance = serializers.FloatField(min_value=0)
    relative = serializers.BooleanField(default=False)
    unit = serializers.CharField(allow_blank=True, default="", max_length=40)
    distractors = DistractorFormat(many=True, default=list)


class _StrictFormat(serializers.Serializer[Any]):
    """Refuse keys the format does not know, so a misspelt key is an error, not ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: "Unknown key." for key in unknown})
        return super().to_internal_value(data)


class ClaimFormat(_StrictFormat):
    pattern = serializers.CharField(trim_whitespace=False)
    code = serializers.CharField()


class KeyIdeaCriteriaFormat(_StrictFormat):
    """What an explanation must say about one key idea (groups of alternatives, every group
    needed) and what it must not claim (each wrong claim naming its misconception)."""

    must_say = serializers.ListField(
        child=serializers.ListField(
            child=serializers.CharField(trim_whitespace=False),
            min_length=1,
            max_length=MAX_PATTERNS_PER_GROUP,
            error_messages={"min_length": "An empty group: give at least one pattern."},
        ),
        min_length=1,
        max_length=MAX_GROUPS,
        error_messages={"min_length": "Give at least one group of patterns the text must match."},
    )
    must_not_claim = serializers.ListField(child=ClaimFormat(), default=list, max_length=MAX_CLAIMS)


class QuestionFormat(serializers.Serializer[Any]):
    slug = serializers.SlugField(max_length=80)
    type = serializers.ChoiceField(choices=QuestionType.values)
    form = serializers.ChoiceField(choices=["A", "B", ""], default="")
    stem = serializers.CharField()
    mark = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal(0), default=Decimal(1)
    )
    probes = serializers.ListField(child=serializers.CharField(), min_length=1)
    feedback = serializers.CharField()
    choices = ChoiceFormat(many=True, default=list)
    reason_prompt = serializers.CharField(allow_blank=True, default="")
    numeric = NumericFormat(required=False)
    model_answer = serializers.CharField(allow_blank=True, default="")
    key_ideas = serializers.ListField(child=serializers.CharField(), default=list)
    # Explain-back: per key idea, the misconceptions a learner who leaves it out may hold.
    key_idea_probes = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()), default=list
    )
    # Explain-back: per key idea, what the automatic reading looks for.
    key_idea_criteria = KeyIdeaCriteriaFormat(many=True, default=list)
    exercise = serializers.CharField(allow_blank=True, default="", max_length=64)


class BankFormat(serializers.Serializer[Any]):
    format = serializers.ChoiceField(choices=[FORMAT])
    slug = serializers.SlugField(max_length=80)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, default="")
    is_prerequisite = serializers.BooleanField(default=False)
    questions = QuestionFormat(many=True, allow_empty=False)


def _question_rules(question: Mapping[str, Any], known_codes: set[str]) -> list[tuple[str, str]]:
    """Return the problems of one structurally valid question."""
    problems: list[tuple[str, str]] = []
    qtype = question["type"]
    choices = question["choices"]
    for code in question["probes"]:
        if code not in known_codes:
            problems.append(("probes", f"Unknown misconception code {code!r}."))
    problems.extend(_evidence_rules(question))
    if qtype in CHOICE_TYPES:
        problems.extend(_choice_rules(qtype, choices, question["reason_prompt"], known_codes))
    elif choices:
        problems.append(("choices", f"A {qtype} question takes no choices."))
    if qtype == QuestionType.NUMERIC:
        problems.extend(_numeric_rules(question.get("numeric"), question["stem"], known_codes))
    elif "numeric" in question:
        problems.append(("numeric", f"Only numeric questions take 'numeric'; this one is {qtype}."))
    if qtype == QuestionType.CODE:
        if question["exercise"] not in EXERCISES:
            known = ", ".join(sorted(EXERCISES))
            problems.append(
                ("exercise", f"Unknown exercise {question['exercise']!r}; choose one of {known}.")
            )
    elif question["exercise"]:
        problems.append(("exercise", f"Only code questions name an exercise; this one is {qtype}."))
    if qtype == QuestionType.EXPLAIN:
        if not question["model_answer"].strip():
            problems.append(("model_answer", "An explain-it-back item needs a model answer."))
        if not question["key_ideas"]:
            problems.append(
                ("key_ideas", "List the key ideas a learner can check their answer against.")
            )
        idea_probes = question["key_idea_probes"]
        if idea_probes and len(idea_probes) != len(question["key_ideas"]):
            problems.append(
                (
                    "key_idea_probes",
                    f"Give one list of codes per key idea: {len(question['key_ideas'])} "
                    f"key ideas, {len(idea_probes)} lists.",
                )
            )
        for index, codes in enumerate(idea_probes):
            for code in codes:
                if code not in known_codes:
                    problems.append(
                        (f"key_idea_probes[{index}]", f"Unknown misconception code {code!r}.")
                    )
        problems.extend(_criteria_rules(question, known_codes))
    elif question["key_idea_probes"]:
        problems.append(
            ("key_idea_probes", f"Only explain items take key_idea_probes; this one is {qtype}.")
        )
    if qtype != QuestionType.EXPLAIN and question["key_idea_criteria"]:
        problems.append(
            (
                "key_idea_criteria",
                f"Only explain items take key_idea_criteria; this one is {qtype}.",
            )
        )
    return problems


def _criteria_rules(question: Mapping[str, Any], known_codes: set[str]) -> list[tuple[str, str]]:
    """Return the problems of an explain item's key_idea_criteria (none when it has none)."""
    criteria = question["key_idea_criteria"]
    if not criteria:
        return []
    ideas = question["key_ideas"]
    problems: list[tuple[str, str]] = []
    if len(criteria) != len(ideas):
        problems.append(
            (
                "key_idea_criteria",
                f"Give one entry per key idea: {len(ideas)} key ideas, {len(criteria)} entries.",
            )
        )
    idea_probes = question["key_idea_probes"]
    for index, entry in enumerate(criteria):
        where = f"key_idea_criteria[{index}]"
        for group_index, group in enumerate(entry["must_say"]):
            for pattern_index, pattern in enumerate(group):
                problem = pattern_problem(pattern)
                if problem:
                    problems.append((f"{where}.must_say[{group_index}][{pattern_index}]", problem))
        allowed = set(question["probes"])
        if index < len(idea_probes):
            allowed |= set(idea_probes[index])
        for claim_index, claim in enumerate(entry["must_not_claim"]):
            place = f"{where}.must_not_claim[{claim_index}]"
            problem = pattern_problem(claim["pattern"])
            if problem:
                problems.append((f"{place}.pattern", problem))
            code = claim["code"]
            if code not in known_codes:
                problems.append((f"{place}.code", f"Unknown misconception code {code!r}."))
            elif code not in allowed:
                problems.append(
                    (
                        f"{place}.code",
                        f"{code} is probed neither by the item nor by this key idea "
                        f"(key_idea_probes[{index}]): add it there, or name the code it reveals.",
                    )
                )
    return problems


def _evidence_rules(question: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return where probes and the wrong answers' codes disagree (choice, numeric, code).

    A right answer counts for every code the item probes, so each probe needs a wrong
    option (numeric distractor, failing grader check) a holder of that belief would pick
    or write; otherwise the item credits a belief it gave no way to show. And a wrong
    answer may only name codes the item probes, so the item's heatmap row says what it
    measures.
    """
    qtype = question["type"]
    if qtype in CHOICE_TYPES:
        named = {c for choice in question["choices"] if not choice["correct"]
                 for c in choice["misconceptions"]}  # fmt: skip
    elif qtype == QuestionType.NUMERIC and question.get("numeric"):
        named = {c for d in question["numeric"]["distractors"] for c in d["misconceptions"]}
    elif qtype == QuestionType.CODE:
        exercise = EXERCISES.get(question["exercise"])
        if exercise is None:
            return []  # reported by the exercise rule
        named = {code for codes in exercise.check_codes.values() for code in codes}
    else:
        return []
    problems: list[tuple[str, str]] = []
    silent = [code for code in question["probes"] if code not in named]
    if silent:
        problems.append(
            (
                "probes",
                f"No wrong answer names {', '.join(silent)}: give it a distractor a learner "
                "holding that belief would choose, or stop probing it.",
            )
        )
    unprobed = sorted(named - set(question["probes"]))
    if unprobed:
        problems.append(
            ("probes", f"Wrong answers name {', '.join(unprobed)}; add it to the probes.")
        )
    return problems


def _choice_rules(
    qtype: str, choices: list[dict[str, Any]], reason_prompt: str, known_codes: set[str]
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for index, choice in enumerate(choices):
        where = f"choices[{index}]"
        if choice["tier"] == 2 and qtype != QuestionType.TWO_TIER:
            problems.append((f"{where}.tier", "Only two-tier questions have tier-2 choices."))
        for code in choice["misconceptions"]:
            if code not in known_codes:
                problems.append(
                    (f"{where}.misconceptions", f"Unknown misconception code {code!r}.")
                )
        if not choice["correct"]:
            if not choice["misconceptions"]:
                problems.append(
                    (
                        f"{where}.misconceptions",
                        "A wrong choice must name the misconception(s) it reveals.",
                    )
                )
            if not choice["feedback"].strip():
                problems.append(
                    (
                        f"{where}.feedback",
                        "A wrong choice needs feedback that explains what is true.",
                    )
                )
    tiers = (1, 2) if qtype == QuestionType.TWO_TIER else (1,)
    for tier in tiers:
        in_tier = [c for c in choices if c["tier"] == tier]
        correct = sum(1 for c in in_tier if c["correct"])
        label = f"tier {tier} " if qtype == QuestionType.TWO_TIER else ""
        if len(in_tier) < 2:
            problems.append(("choices", f"Give at least two {label}choices."))
        if qtype == QuestionType.MULTIPLE and correct < 1:
            problems.append(("choices", "Mark at least one choice correct."))
        if qtype != QuestionType.MULTIPLE and correct != 1:
            problems.append(
                ("choices", f"Mark exactly one {label}choice correct (found {correct}).")
            )
    if qtype == QuestionType.TRUE_FALSE and len(choices) != 2:
        problems.append(("choices", "A true/false question has exactly two choices."))
    if qtype == QuestionType.TWO_TIER and not reason_prompt.strip():
        problems.append(
            ("reason_prompt", "A two-tier question needs the prompt for its reason tier.")
        )
    return problems


def _numeric_rules(
    numeric: Mapping[str, Any] | None, stem: str, known_codes: set[str]
) -> list[tuple[str, str]]:
    if numeric is None:
        return [
            (
                "numeric",
                "A numeric question needs its 'numeric' block (answer, tolerance, parameters).",
            )
        ]
    problems: list[tuple[str, str]] = []
    parameters: dict[str, list[float]] = numeric["parameters"]
    placeholders = stem_placeholders(stem)
    if placeholders != set(parameters):
        problems.append(
            (
                "stem",
                f"Placeholders {sorted(placeholders)} do not match "
                f"the parameters {sorted(parameters)}.",
            )
        )
    names = sorted(parameters)
    combinations = [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(parameters[n] for n in names))
    ]
    expressions = [("numeric.answer", numeric["answer"])] + [
        (f"numeric.distractors[{i}].answer", d["answer"])
        for i, d in enumerate(numeric["distractors"])
    ]
    for where, expression in expressions:
        for values in combinations:
            try:
                expression_evaluate(expression, values)
            except ExpressionError as error:
                problems.append((where, str(error)))
                break
    for index, distractor in enumerate(numeric["distractors"]):
        for code in distractor["misconceptions"]:
            if code not in known_codes:
                problems.append(
                    (
                        f"numeric.distractors[{index}].misconceptions",
                        f"Unknown misconception code {code!r}.",
                    )
                )
    return problems


def bank_validate(data: Any) -> dict[str, Any]:
    """Return the validated bank, or raise ApplicationError naming every bad question and field."""
    if not isinstance(data, Mapping):
        raise ApplicationError(
            "A bank file is a JSON object.", fields={"": "Expected a JSON object."}
        )
    serializer = BankFormat(data=data)
    problems: list[tuple[str, str]] = []
    if not serializer.is_valid():
        problems = list(error_fields(serializer.errors).items())
    else:
        bank = serializer.validated_data
        known_codes = set(Misconception.objects.values_list("code", flat=True))
        seen: dict[str, int] = {}
        taken = dict(
            Question.objects.filter(slug__in=[q["slug"] for q in bank["questions"]])
            .exclude(bank__slug=bank["slug"])
            .values_list("slug", "bank__slug")
        )
        for index, question in enumerate(bank["questions"]):
            prefix = f"questions[{index}]"
            slug = question["slug"]
            if slug in seen:
                problems.append(
                    (f"{prefix}.slug", f"Slug {slug!r} is already used by questions[{seen[slug]}].")
                )
            seen.setdefault(slug, index)
            if slug in taken:
                problems.append(
                    (
                        f"{prefix}.slug",
                        f"Slug {slug!r} belongs to a question of bank {taken[slug]!r}.",
                    )
                )
            problems.extend(
                (f"{prefix}.{field}", message)
                for field, message in _question_rules(question, known_codes)
            )
    if problems:
        named = [(_with_slug(data, path), message) for path, message in problems]
        raise ApplicationError(
            f"The bank has {len(named)} problem(s): "
            + "; ".join(f"{p}: {m}" for p, m in named[:5]),
            code="invalid_bank",
            fields=dict(named),
        )
    return dict(serializer.validated_data)


def _with_slug(data: Mapping[str, Any], path: str) -> str:
    """Add the question's slug after `questions[i]` so an author can find it."""
    if not path.startswith("questions["):
        return path
    index_text, _, rest = path[len("questions[") :].partition("]")
    questions = data.get("questions")
    slug = None
    try:
        index = int_field(index_text, field="questions")
    except ApplicationError:
        index = -1
    if isinstance(questions, list) and 0 <= index < len(questions):
        item = questions[index]
        slug = item.get("slug") if isinstance(item, Mapping) else None
    label = f"questions[{index_text}]" + (f" {slug!r}" if isinstance(slug, str) else "")
    return label + (f" {rest.lstrip('.')}" if rest else "")
