"""Misconception codes as question tags, the one convention of the Moodle XML and GIFT formats.

Moodle has no field for a misconception, but it keeps a question's tags through its own
import and export, so codes travel as tags:

- `misconception:DO-TEST` on a question: the item probes DO-TEST;
- `answer-2:DO-TEST`: the question's 2nd answer (1-based, in file order) reveals DO-TEST;
- `idea-2:DO-TEST` on an essay (an explain item): a learner who leaves out its 2nd key idea
  may hold DO-TEST (key_idea_probes);
- `form:A`: the question belongs to parallel form A;
- `twotier:KEY` with `tier:1` or `tier:2`: the question is the answer tier or the reason
  tier of a two-tier item, KEY pairing the two (Moodle has no two-tier type, so one item
  travels as two single-choice questions, assessments/formats/moodle_xml_twotier.py);
- `exercise:dropout-forward` on an essay: a code question on that exercise of the grader
  (a monospaced essay, graded by hand in Moodle).

Moodle's export keeps a question's answers in the order they were imported, so the
position survives a round trip; tags themselves may come back in another order, so
nothing depends on their order. Moodle matches tag names without regard to case (a site
that already holds `misconception:do-test` reuses that spelling), so prefixes are read in
any case and codes are upper-cased; a pairing key is read lower-cased. Moodle cuts a tag
to 50 characters (TAG_MAX_LENGTH), so every tag written stays within that. Other tags are
left alone (`other_tags`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from core.errors import ApplicationError

MISCONCEPTION_TAG_PREFIX = "misconception:"
ANSWER_TAG_PREFIX = "answer-"
IDEA_TAG_PREFIX = "idea-"
FORM_TAG_PREFIX = "form:"
TWOTIER_TAG_PREFIX = "twotier:"
TIER_TAG_PREFIX = "tier:"
EXERCISE_TAG_PREFIX = "exercise:"
MOODLE_TAG_LENGTH = 50  # Moodle's TAG_MAX_LENGTH: a longer tag is cut on import
_PREFIXES = (
    MISCONCEPTION_TAG_PREFIX,
    FORM_TAG_PREFIX,
    TWOTIER_TAG_PREFIX,
    TIER_TAG_PREFIX,
    EXERCISE_TAG_PREFIX,
)
_ANSWER_TAG = re.compile(r"answer-(\d+):(.*)", re.IGNORECASE | re.DOTALL)
_IDEA_TAG = re.compile(r"idea-(\d+):(.*)", re.IGNORECASE | re.DOTALL)


def tag_is_code(tag: str) -> bool:
    """Return whether a tag follows the misconception-code convention."""
    lowered = tag.strip().lower()
    return (
        lowered.startswith(_PREFIXES)
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


def tier_from_tags(tags: Iterable[str]) -> tuple[str, int] | None:
    """Return the pairing key and tier (1 or 2) of a two-tier item's question, or None when
    the tags name neither; raise ApplicationError (field "tags") when they name one without
    the other, several, or a tier other than 1 and 2."""
    keys = _values(tags, TWOTIER_TAG_PREFIX, lower=True)
    tiers = _values(tags, TIER_TAG_PREFIX, lower=True)
    if not keys and not tiers:
        return None
    hint = (
        "tag both tiers twotier:KEY (the same KEY), the answer tier tier:1 and the reason "
        "tier tier:2"
    )
    if len(keys) != 1 or "" in keys:
        found = ", ".join(f"{TWOTIER_TAG_PREFIX}{key}" for key in sorted(keys)) or "none"
        message = f"A tier of a two-tier question names one pairing tag (found {found}): {hint}."
        raise ApplicationError(message, code="invalid_tag", fields={"tags": message})
    if tiers not in ({"1"}, {"2"}):
        found = ", ".join(f"{TIER_TAG_PREFIX}{tier}" for tier in sorted(tiers)) or "none"
        message = f"A tier of a two-tier question is tier:1 or tier:2 (found {found}): {hint}."
        raise ApplicationError(message, code="invalid_tag", fields={"tags": message})
    return keys.pop(), int(tiers.pop())


def twotier_key(slug: str) -> str:
    """Return the key that pairs a two-tier item's two questions, short enough that its tag
    fits Moodle's 50 characters (a long slug is cut and told apart by a digest)."""
    key = slug.lower()
    room = MOODLE_TAG_LENGTH - len(TWOTIER_TAG_PREFIX)
    if len(key) <= room:
        return key
    digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
    return f"{key[: room - len(digest) - 1]}-{digest}"


def exercise_from_tags(tags: Iterable[str]) -> str:
    """Return the exercise an `exercise:` tag names, or "" when none does."""
    names = _values(tags, EXERCISE_TAG_PREFIX, lower=False)
    if len(names) > 1 or "" in names:
        found = ", ".join(f"{EXERCISE_TAG_PREFIX}{name}" for name in sorted(names))
        message = (
            f"A code question names one exercise (found {found}), e.g. exercise:dropout-forward."
        )
        raise ApplicationError(message, code="invalid_tag", fields={"tags": message})
    return names.pop() if names else ""


def _values(tags: Iterable[str], prefix: str, *, lower: bool) -> set[str]:
    """Return what follows `prefix` (read in any case) in the tags that start with it."""
    values = {
        tag.strip()[len(prefix) :].strip() for tag in tags if tag.strip().lower().startswith(prefix)
    }
    return {value.lower() for value in values} if lower else values


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
