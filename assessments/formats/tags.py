"""Misconception codes as question tags, the one convention of the Moodle XML and GIFT formats.

Moodle has no field for a misconception, but it keeps a question's tags through its own
import and export, so codes travel as tags:

- `misconception:DO-TEST` on a question: the item probes DO-TEST;
- `answer-2:DO-TEST`: the question's 2nd answer (1-based, in file order) reveals DO-TEST;
- `idea-2:DO-TEST` on an essay (an explain item): a learner who leaves out its 2nd key idea
  may hold DO-TEST (key_idea_probes);
- `form:A`: the question belongs to parallel form A.

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
IDEA_TAG_PREFIX = "idea-"
FORM_TAG_PREFIX = "form:"
_ANSWER_TAG = re.compile(r"answer-(\d+):(.*)", re.IGNORECASE | re.DOTALL)
_IDEA_TAG = re.compile(r"idea-(\d+):(.*)", re.IGNORECASE | re.DOTALL)


def tag_is_code(tag: str) -> bool:
    """Return whether a tag follows the misconception-code convention."""
    lowered = tag.strip().lower()
    return (
        lowered.startswith((MISCONCEPTION_TAG_PREFIX, FORM_TAG_PREFIX))
        or bool(_ANSWER_TAG.fullmatch(lowered))
        or bool(_IDEA_TAG.fullmatch(lowered))
    )


def other_tags(tags: Iterable[str]) -> list[str]:
    """Return the tags that carry no misconception code."""
    return [tag for tag in tags if not tag_is_code(tag)]


def codes_from_tags(tags: Iterable[str]) -> tuple[list[str], dict[int, list[str]]]:
    """Return the probes and the codes per answer position (1-based) that the tags name.

    Raise ApplicationError (field "tags") for a tag of the convention without a code, or
    an answer position that is not a positive whole number.
    """
    probes: list[str] = []
    for raw in tags:
        tag = raw.strip()
        if tag.lower().startswith(MISCONCEPTION_TAG_PREFIX):
            _append(probes, _code(tag[len(MISCONCEPTION_TAG_PREFIX) :], tag))
    return probes, _positional_codes(tags, _ANSWER_TAG, "answer")


def idea_codes_from_tags(tags: Iterable[str]) -> dict[int, list[str]]:
    """Return the codes per key idea position (1-based) that `idea-N:` tags name."""
    return _positional_codes(tags, _IDEA_TAG, "idea")


def form_from_tags(tags: Iterable[str]) -> str:
    """Return the parallel form a `form:A` or `form:B` tag names, or "" when none does."""
    forms = {tag.strip()[len(FORM_TAG_PREFIX) :].strip().upper()
             for tag in tags if tag.strip().lower().startswith(FORM_TAG_PREFIX)}  # fmt: skip
    if len(forms) > 1 or not forms <= {"A", "B"}:
        raise ApplicationError(
            f"Tags name form(s) {', '.join(sorted(forms))}: give at most one, form:A or form:B.",
            code="invalid_tag",
            fields={"tags": "One form tag at most: form:A or form:B."},
        )
    return forms.pop() if forms else ""


def _positional_codes(
    tags: Iterable[str], pattern: re.Pattern[str], noun: str
) -> dict[int, list[str]]:
    """Return the codes per 1-based position of the tags `pattern` matches."""
    codes: dict[int, list[str]] = {}
    for raw in tags:
        tag = raw.strip()
        match = pattern.fullmatch(tag)
        if match is None:
            continue
        position = int(match.group(1))
        if position < 1:
            raise ApplicationError(
                f"Tag {tag!r}: {noun}s are numbered from 1 ({noun}-1 is the first).",
                code="invalid_tag",
                fields={"tags": f"{tag!r}: {noun}s are numbered from 1."},
            )
        _append(codes.setdefault(position, []), _code(match.group(2), tag))
    return codes


def tags_from_codes(
    *,
    probes: Iterable[str],
    per_answer: Mapping[int, Iterable[str]],
    per_idea: Mapping[int, Iterable[str]] | None = None,
    form: str = "",
) -> list[str]:
    """Return the tags that carry the probes, each answer's and each key idea's codes
    (positions 1-based) and the parallel form."""
    tags = [f"{MISCONCEPTION_TAG_PREFIX}{code}" for code in probes]
    for prefix, codes in ((ANSWER_TAG_PREFIX, per_answer), (IDEA_TAG_PREFIX, per_idea or {})):
        for position in sorted(codes):
            if position < 1:
                raise ValueError(f"Positions start at 1, not {position}.")
            tags.extend(f"{prefix}{position}:{code}" for code in codes[position])
    if form:
        tags.append(f"{FORM_TAG_PREFIX}{form}")
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
