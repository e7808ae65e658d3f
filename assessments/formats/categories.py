"""Moodle question categories as our banks: a path `$course$/top/A/B` is the bank "A / B",
slug "a--b" (each name slugified, "--" between), in Moodle XML and GIFT alike."""

from __future__ import annotations

import re
from typing import Any

from django.utils.text import slugify

from assessments.bank_format import FORMAT

CATEGORY_SEPARATOR = "--"
SLUG_LENGTH = 80
TITLE_LENGTH = 200


def category_names(path: str) -> list[str]:
    """Return the names along a category path, without its context ($course$, $system$…)
    and Moodle's "top"; Moodle writes a "/" inside a name as "//"."""
    names = [name.replace("\0", "/").strip() for name in path.replace("//", "\0").split("/")]
    names = [name for name in names if name]
    if names and re.fullmatch(r"\$\w+\$", names[0]):
        names = names[1:]
    if names and names[0] == "top":
        names = names[1:]
    return names


def category_slug(names: list[str]) -> str:
    """Return the slug of the bank a category path names."""
    return CATEGORY_SEPARATOR.join(slugify(name) or "category" for name in names)[:SLUG_LENGTH]


def bank_start(banks: dict[str, dict[str, Any]], *, slug: str, title: str) -> dict[str, Any]:
    """Return the bank of that slug from `banks`, added there empty on first use."""
    if slug not in banks:
        banks[slug] = {
            "format": FORMAT,
            "slug": slug,
            "title": title[:TITLE_LENGTH],
            "description": "",
            "is_prerequisite": False,
            "questions": [],
        }
    return banks[slug]
