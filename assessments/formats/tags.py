"""Misconception codes as question tags, the one convention of the Moodle XML and GIFT formats.

Moodle has no field for a misconception, but it keeps a question's tags through its own
import and export, so codes travel as tags:

- `misconception:DO-TEST` on a question: the item probes DO-TEST;
- `answer-2:DO-TEST`: the question's 2nd answer (1-based, in file order) reveals DO-TEST.

Moodle's export keeps a question's answers in the order they were imported, so the
position survives a round trip; tags themselves may come back in another order, so
nothing depends on their order. Moodle matches tag names without regard to case (a site
that already holds `misconception:do-test` reuses that spelling), so prefixes are read in
any case and codes are upper-cased. Other tags are left alone (`other_tags`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from core.errors import ApplicationError

MISCONCEPTION_TAG_PREFIX = "misconception:"
ANSWER_TAG_PREFIX = "answer-"
_ANSWER_TAG = re.compile(r"answer-(\d+):(.*)", re.IGNORECASE | re.DOTALL)


def tag_is_code(tag: str) -> bool:
    """Return whether a tag follows the misconception-code convention."""
    lowered = tag.strip().lower()
    return lowered.startswith(MISCONCEPTION_TAG_PREFIX) or bool(_ANSWER_TAG.fullmatch(lowered))


def other_tags(tags: Iterable[str]) -> list[str]:
    """Return the tags that carry no misconception code."""
    return [tag for tag in tags if not tag_is_code(tag)]


def codes_from_tags(tags: Iterable[str]) -> tuple[list[str], dict[int, list[str]]]:
    """Return the probes and the codes per answer position (1-based) that the tags name.

    Raise ApplicationError (field "tags") for a tag of the convention without a code, or
    an answer position that is not a positive whole number.
    """
    probes: list[str] = []
    per_answer: dict[int, list[str]] = {}
    for raw in tags:
        tag = raw.strip()
        if tag.lower().startswith(MISCONCEPTION_TAG_PREFIX):
            _append(probes, _code(tag[len(MISCONCEPTION_TAG_PREFIX) :], tag))
            continue
        match = _ANSWER_TAG.fullmatch(tag)
        if match is None:
            continue
        position = int(match.group(1))
        if position < 1:
            raise ApplicationError(
                f"Tag {tag!r}: answers are numbered from 1 (answer-1 is the first answer).",
                code="invalid_tag",
                fields={"tags": f"{tag!r}: answers are numbered from 1."},
            )
        _append(per_answer.setdefault(position, []), _code(match.group(2), tag))
    return probes, per_answer


def tags_from_codes(*, probes: Iterable[str], per_answer: Mapping[int, Iterable[str]]) -> list[str]:
    """Return the tags that carry the probes and each answer's codes (positions 1-based)."""
    tags = [f"{MISCONCEPTION_TAG_PREFIX}{code}" for code in probes]
    for position in sorted(per_answer):
        if position < 1:
            raise ValueError(f"Answer positions start at 1, not {position}.")
        tags.extend(f"{ANSWER_TAG_PREFIX}{position}:{code}" for code in per_answer[position])
    return tags


def _code(text: str, tag: str) -> str:
    """Return the code a tag names, upper-cased, or raise if it names none."""
    code = text.strip().upper()
    if not code or any(character.isspace() for character in code):
        raise ApplicationError(
            f"Tag {tag!r} names no misconception code (write e.g. 'misconception:DO-TEST').",
            code="invalid_tag",
            fields={"tags": f"{tag!r} names no misconception code."},
        )
    return code


def _append(codes: list[str], code: str) -> None:
    if code not in codes:
        codes.append(code)
