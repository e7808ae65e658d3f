"""The reading of explain-backs as a pure function: the shipped criteria on the shipped
items, negation, paraphrase and spelling, hostile input, and the patterns it refuses."""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

import pytest

from assessments.catalog import FIXTURES_DIR
from assessments.explanation_reading import (
    MAX_READ_CHARS,
    Claim,
    IdeaCriteria,
    Reading,
    Verdict,
    criteria_of,
    explanation_read,
    pattern_problem,
    text_normalise,
)

FOUND, MISSING, CONTRADICTS = Verdict.FOUND, Verdict.MISSING, Verdict.CONTRADICTS


@cache
def _items() -> dict[str, dict[str, Any]]:
    items = {}
    for name in ("explain-back.json", "prerequisites.json"):
        bank = json.loads((FIXTURES_DIR / "banks" / name).read_text(encoding="utf-8"))
        items.update({q["slug"]: q for q in bank["questions"] if q["type"] == "explain"})
    return items


def _read(slug: str, text: str) -> Reading:
    item = _items()[slug]
    return explanation_read(text, criteria_of(item["key_ideas"], item["key_idea_criteria"]))


def _verdicts(slug: str, text: str) -> list[str]:
    return [idea.verdict.value for idea in _read(slug, text).ideas]


def test_every_shipped_explain_item_has_criteria_for_every_key_idea():
    assert len(_items()) == 7
    for slug, item in _items().items():
        assert len(item["key_idea_criteria"]) == len(item["key_ideas"]), slug


@pytest.mark.parametrize("slug", sorted(_items()))
def test_each_model_answer_says_every_key_idea_and_claims_nothing_wrong(slug):
    reading = _read(slug, _items()[slug]["model_answer"])
    assert [idea.verdict for idea in reading.ideas] == [FOUND] * len(reading.ideas)
    assert reading.is_right


@pytest.mark.parametrize(
    "text",
    [
        "Dropout does NOT speed up training.",
        "dropout makes training faster, which is a myth.",
        "Some people think dropout speeds up training, but every unit is still computed.",
        "Does dropout speed up training? Not at all.",
        "It is not true that dropout makes training faster.",
        "Unlike what you might think, training is not faster.",
    ],
)
def test_a_negated_attributed_questioned_or_disclaimed_claim_is_not_the_claim(text):
    assert _read("explain-what-why-a", text).ideas[3].verdict != CONTRADICTS


def test_an_asserted_claim_is_named_with_the_learners_words():
    idea = _read("explain-what-why-a", "Honestly, dropout makes training faster!").ideas[3]
    assert idea.verdict == CONTRADICTS
    assert idea.codes == ("DO-SPEED",)
    assert idea.quote == "dropout makes training faster"


def test_a_negative_idea_is_found_in_its_negative_wording():
    assert _verdicts(
        "explain-what-why-a", "It doesn't add new data and it does not speed up training."
    ) == [MISSING, MISSING, MISSING, FOUND]


@pytest.mark.parametrize(
    "text",
    [
        "Dropout zeroes each unit's output at random, with a new mask on every training pass.",
        "DROPOUT ZEROES EACH UNIT'S OUTPUT AT RANDOM, WITH A NEW MASK ON EVERY TRAINING PASS!!!",
        "dropout zeroes each unit\u2019s output at random — with a new mask on every training pass",
        "Dropout zeroes each unit's output at random,\n\nwith a   new mask on every training pass.",
        "Dr\u043epout zer\u043ees each unit's \u043eutput at rand\u043em, with a new mask on every\u200b training pass.",
        "\uff24\uff52\uff4f\uff50\uff4f\uff55\uff54 zeroes each unit's output at random, with a new mask on every pass.",
        "Dropout randomley zeros each nueron's output, with a diffrent mask every iteraton.",
        "Each pass is a coin toss per unit: tails, its output is silenced, and the coins are "
        "tossed again next pass.",
    ],
)
def test_case_punctuation_unicode_spelling_and_paraphrase_do_not_hide_an_idea(text):
    assert _read("explain-what-why-a", text).ideas[0].verdict == FOUND


def test_the_quote_is_the_learners_own_text():
    text = "Dropout randomley zeros each nueron\u2019s output, with a diffrent mask every iteraton."
    quote = _read("explain-what-why-a", text).ideas[0].quote
    assert quote and quote in text
    assert "nueron\u2019s" in quote  # not the corrected word


def test_the_normalised_text_is_plain_and_expanded():
    assert (
        text_normalise("It DOESN\u2019T  scale by ( 1 \u2212 p ) — it\u2019s w/ the keep prob.")
        == "it does not scale by (1-p) - it is with the keep prob."
    )


@pytest.mark.parametrize(
    "text",
    [
        "a" * 200_000,
        "not " * 20_000,
        "(" * 50_000 + "1-p" + ")" * 50_000,
        ("dropout " * 40 + ". ") * 2_000,
        "🙂" * 30_000,
        "random units dropped new mask " * 5_000,
        "a." * 50_000,
        ("x" * 39 + " ") * 5_000,
        "\u202e\u200b\ufeff" * 10_000 + "dropout",
    ],
)
def test_hostile_input_is_read_in_bounded_time(text):
    for slug in _items():
        started = time.perf_counter()
        reading = _read(slug, text)
        assert time.perf_counter() - started < 1.0, slug
        assert len(reading.ideas) == len(_items()[slug]["key_ideas"])
        if len(text) > MAX_READ_CHARS:
            assert reading.truncated


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(a+)+b", "Only '?' may follow a group"),
        (r"(?:\w+ )*mask", "Only '?' may follow a group"),
        (r"(x)\1", "Back-references"),
        (".*a.*b", "Bound a repeat"),
        (".{0,30}a.{0,30}b", "at most one repeat"),
        ("a|", "matches empty text"),
        ("[", "Not a valid regular expression"),
        ("  ", "empty"),
        ("x" * 600, "under 500 characters"),
        ("new {gap:40} mask", "at most 12 words"),
    ],
)
def test_patterns_that_could_hang_or_match_anything_are_refused(pattern, problem):
    assert problem in (pattern_problem(pattern) or "")


@pytest.mark.parametrize(
    "pattern",
    [r"zero\w* {gap} mask", r"{neg} {gap:3} faster", r"(?:new )?mask", r"1/\(1-p\)", ".{0,30}x"],
)
def test_ordinary_patterns_are_accepted(pattern):
    assert pattern_problem(pattern) is None


def test_a_refused_pattern_is_never_run():
    ideas = [IdeaCriteria("an idea", must_say=(("(a+)+$",),), must_not_claim=())]
    started = time.perf_counter()
    reading = explanation_read("a" * 40 + "!", ideas)
    assert time.perf_counter() - started < 0.5
    assert reading.ideas[0].verdict == MISSING


def _idea(*groups: tuple[str, ...], claims: tuple[Claim, ...] = ()) -> IdeaCriteria:
    return IdeaCriteria("an idea", must_say=groups, must_not_claim=claims)


def test_every_group_is_needed_within_two_consecutive_sentences():
    idea = _idea(("random",), ("mask",))
    assert explanation_read("Random. A mask.", [idea]).ideas[0].verdict == FOUND
    assert explanation_read("Random. Nothing. A mask.", [idea]).ideas[0].verdict == MISSING
    assert explanation_read("Random only.", [idea]).ideas[0].verdict == MISSING


def test_a_contradiction_outranks_a_found_idea_and_names_every_code():
    idea = _idea(
        ("random",),
        claims=(Claim("weakest", "DO-TARGETED"), Claim("same units", "DO-FIXEDMASK")),
    )
    read = explanation_read("Random, but always the same units, the weakest.", [idea]).ideas[0]
    assert read.verdict == CONTRADICTS
    assert read.codes == ("DO-FIXEDMASK", "DO-TARGETED")  # in the order of the text


def test_the_overall_judgement_needs_half_the_ideas_and_no_contradiction():
    def reading(*verdicts: Verdict) -> Reading:
        from assessments.explanation_reading import ClaimRead, IdeaReading

        return Reading(
            ideas=tuple(
                IdeaReading(v, claims=(ClaimRead("DO-X", "q"),) if v == CONTRADICTS else ())
                for v in verdicts
            )
        )

    assert reading(FOUND, FOUND, MISSING, MISSING).is_right
    assert not reading(FOUND, MISSING, MISSING, MISSING).is_right
    assert not reading(FOUND, FOUND, FOUND, CONTRADICTS).is_right
    assert not reading(FOUND, FOUND, MISSING, MISSING, MISSING).is_right


def test_a_reading_is_stored_and_restored_as_plain_json():
    reading = _read("explain-what-why-a", "Dropout speeds up training; units are dropped randomly.")
    stored = json.loads(json.dumps(reading.as_json()))
    assert Reading.from_json(stored) == reading
    assert Reading.from_json(None) is None
    assert Reading.from_json({"ideas": [{"verdict": "maybe"}]}) is None


def test_criteria_not_one_per_key_idea_are_no_criteria():
    assert criteria_of(["a", "b"], [{"must_say": [["x"]]}]) == ()
    assert criteria_of(["a"], []) == ()
