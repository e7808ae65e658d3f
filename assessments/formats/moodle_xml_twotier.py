"""A two-tier item in Moodle XML: two single-choice questions linked by tags.

Moodle has no two-tier type, and one multichoice holding both tiers would lose which
reason goes with which answer. So the item travels as two multichoice questions, as
two-tier tests are given on paper: the answer tier (our stem and tier-1 choices) and the
reason tier (our reason prompt and tier-2 choices), both tagged `twotier:KEY` and one
`tier:1`, the other `tier:2` (assessments/formats/tags.py). Each is a valid single choice,
its wrong answers' codes in its own `answer-N:` tags, and each carries the item's probes,
form and general feedback; each is worth half the item's mark. In Moodle the learner
answers both and each is scored on its own; here the item is right only when both are.

Reading, the two are merged back wherever they stand in the file: the answer tier gives
the slug, stem, general feedback and the item's place; the mark is the two marks' sum;
the probes are both tiers' together. A tier without its partner, two questions for one
tier, tiers in different categories or naming different forms are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assessments.formats.moodle_xml_text import QuestionRefused
from assessments.formats.tags import TIER_TAG_PREFIX, TWOTIER_TAG_PREFIX, twotier_key

_TIER_NAMES = {1: "answer tier", 2: "reason tier"}


@dataclass
class TierQuestion:
    """One tier as a single-choice item in our JSON form, with its Moodle name, idnumber
    and the tags that pair it."""

    item: dict[str, Any]
    name: str
    idnumber: str
    tags: list[str]


def twotier_split(item: dict[str, Any]) -> list[TierQuestion]:
    """Return a two-tier item as its answer tier and reason tier."""
    slug = item["slug"]
    pairing = f"{TWOTIER_TAG_PREFIX}{twotier_key(slug)}"
    half = Decimal(str(item.get("mark", 1))) / 2
    tiers = []
    for tier, stem in ((1, item["stem"]), (2, item["reason_prompt"])):
        question = {
            "slug": slug,
            "type": "single",
            "form": item.get("form", ""),
            "stem": stem,
            "mark": float(half),
            "probes": item["probes"],
            "feedback": item["feedback"],
            "choices": [choice for choice in item["choices"] if choice["tier"] == tier],
        }
        # The reason tier's idnumber is no slug, so it can never take another question's.
        name, idnumber = (slug, slug) if tier == 1 else (f"{slug} (reason)", f"{slug}:reason")
        tiers.append(TierQuestion(question, name, idnumber, [pairing, f"{TIER_TAG_PREFIX}{tier}"]))
    return tiers


@dataclass
class _Waiting:
    tier: int
    item: dict[str, Any]  # in its bank's questions, where the merged item will stand
    label: str
    bank: dict[str, Any]
    mark: Decimal
    slug_source: tuple[str, str]  # the answer tier's idnumber and name, once seen


class TierPairs:
    """The tiers read so far, each waiting for its partner under its pairing key."""

    def __init__(self) -> None:
        self._waiting: dict[str, _Waiting] = {}
        self._merged: set[str] = set()

    def tier_add(
        self,
        *,
        key: str,
        tier: int,
        item: dict[str, Any],
        label: str,
        bank: dict[str, Any],
        mark: Decimal,
        slug_source: tuple[str, str],
    ) -> tuple[dict[str, Any], tuple[str, str], str] | None:
        """Hold a tier until its partner comes; with the partner, return the merged item
        (already in its bank), the answer tier's idnumber and name, and both tiers' label.

        Raise QuestionRefused (field "tags") when this tier cannot pair.
        """
        if item["type"] != "single":
            raise QuestionRefused(
                "single",
                f"The {_TIER_NAMES[tier]} of a two-tier question is a single-choice "
                "multichoice (<single>true</single>, one answer at 100).",
            )
        tag = f"{TWOTIER_TAG_PREFIX}{key}"
        if key in self._merged:
            raise QuestionRefused("tags", f"Both tiers tagged {tag} were read already.")
        first = self._waiting.get(key)
        if first is None:
            bank["questions"].append(item)
            self._waiting[key] = _Waiting(tier, item, label, bank, mark, slug_source)
            return None
        if first.tier == tier:
            raise QuestionRefused(
                "tags",
                f"{first.label} is the {_TIER_NAMES[tier]} tagged {tag} already; the other "
                f"question of the pair is tagged {TIER_TAG_PREFIX}{3 - tier}.",
            )
        if first.bank is not bank:
            raise QuestionRefused(
                "tags", f"Its partner tagged {tag}, {first.label}, is in another category."
            )
        if first.item["form"] != item["form"]:
            raise QuestionRefused(
                "tags",
                f"The two tiers tagged {tag} name different parallel forms "
                f"({first.item['form'] or 'none'} and {item['form'] or 'none'}).",
            )
        del self._waiting[key]
        self._merged.add(key)
        answer, reason = (first.item, item) if first.tier == 1 else (item, first.item)
        merged = _merged(answer, reason, first.mark + mark)
        first.item.clear()
        first.item.update(merged)
        labels = {first.tier: first.label, tier: label}
        both = f"{labels[1]} ({_TIER_NAMES[1]}) and {labels[2]} ({_TIER_NAMES[2]})"
        return first.item, first.slug_source if first.tier == 1 else slug_source, both

    def unpaired(self) -> dict[str, str]:
        """Take every tier still without its partner out of its bank; return why, by label."""
        refused = {}
        for key, waiting in self._waiting.items():
            waiting.bank["questions"].remove(waiting.item)
            missing = _TIER_NAMES[3 - waiting.tier]
            refused[f"{waiting.label} tags"] = (
                f"The {_TIER_NAMES[waiting.tier]} of two-tier question {TWOTIER_TAG_PREFIX}{key} "
                f"has no {missing} to pair with: a single choice tagged "
                f"{TWOTIER_TAG_PREFIX}{key} and {TIER_TAG_PREFIX}{3 - waiting.tier}, in the "
                "same category and form."
            )
        self._waiting.clear()
        return refused


def _merged(answer: dict[str, Any], reason: dict[str, Any], mark: Decimal) -> dict[str, Any]:
    probes = list(dict.fromkeys([*answer["probes"], *reason["probes"]]))
    return {
        "type": "twotier",
        "form": answer["form"],
        "stem": answer["stem"],
        "mark": str(mark.quantize(Decimal("0.01"))),
        "probes": probes,
        "feedback": answer["feedback"],
        "choices": [{**choice, "tier": 1} for choice in answer["choices"]]
        + [{**choice, "tier": 2} for choice in reason["choices"]],
        "reason_prompt": reason["stem"],
    }
