"""One set of rules for values that come from outside: integers in form fields, query
strings, URLs and headers; text in forms; JSON bodies.

Each rule refuses what it cannot use with an ApplicationError naming the field (a 400 in
the API's error shape, a form error on a page), so hostile input never reaches int(), the
database or a recursive parser as something they choke on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator

from core.errors import ApplicationError

MAX_ID = 2**63 - 1  # larger ids exist nowhere (and overflow the databases' integers)
# ASCII digits only: str.isdigit() also accepts "²", which int() refuses, and int() reads
# "٣" as 3. Thirty-two characters at most: int() refuses strings of more than 4,300 digits,
# and no integer this service takes needs more than nineteen.
_INTEGER = re.compile(r"-?[0-9]{1,32}")
MAX_JSON_DEPTH = 64  # the deepest payload any endpoint takes is about 8 levels


def int_field(
    raw: str,
    *,
    field: str,
    minimum: int = 0,
    maximum: int = MAX_ID,
    message: str | None = None,
) -> int:
    """Return `raw` as a whole number from `minimum` to `maximum`; anything else is an
    ApplicationError naming `field`, with `message` (or the range) as its advice."""
    if _INTEGER.fullmatch(raw) is not None:
        value = int(raw)
        if minimum <= value <= maximum:
            return value
    if message is None:
        message = (
            "A whole number in digits 0-9."
            if minimum == 0 and maximum == MAX_ID
            else f"A whole number from {minimum} to {maximum}."
        )
    shown = raw[:20] + ("…" if len(raw) > 20 else "")
    raise ApplicationError(f"{field}: {message} Got {shown!r}.", fields={field: message})


def int_fields(raws: Iterable[str], *, field: str, message: str | None = None) -> list[int]:
    """Return every value of a repeated field (checkboxes, a table's rows) as ids, or raise
    an ApplicationError naming `field` for the first that is not one."""
    return [int_field(raw, field=field, message=message) for raw in raws]


def ints_valid(raws: Iterable[str], *, maximum: int = MAX_ID) -> list[int]:
    """Return the values that `int_field` accepts, dropping the rest (to redisplay a form)."""
    kept = []
    for raw in raws:
        try:
            kept.append(int_field(raw, field="", maximum=maximum))
        except ApplicationError:
            continue
    return kept


def nul_message() -> str:
    """Return the wording of the rule DRF's CharField applies to API text (Django's)."""
    try:
        ProhibitNullCharactersValidator()("\x00")
    except ValidationError as error:
        return str(error.messages[0])
    raise AssertionError("the validator let a NUL character through")


def text_field(raw: str, *, field: str) -> str:
    """Return `raw`, or raise an ApplicationError naming `field` if it holds a NUL character
    (which PostgreSQL cannot store in text), as the API refuses one."""
    if "\x00" in raw:
        message = nul_message()
        raise ApplicationError(f"{field}: {message}", fields={field: message})
    return raw


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than MAX_JSON_DEPTH."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted.")


def json_depth_check(value: Any) -> None:
    """Raise JSONTooDeep if `value` (parsed JSON) nests lists and objects too deeply."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise JSONTooDeep()
        stack.extend((child, depth + 1) for child in children)


def json_loads(text: str | bytes) -> Any:
    """Parse JSON from outside; too deep a document is JSONTooDeep (a ValueError), not the
    RecursionError json.loads raises past about a thousand levels."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONTooDeep() from None
    json_depth_check(value)
    return value
