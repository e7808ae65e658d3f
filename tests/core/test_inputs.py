"""The rules for values from outside (core.inputs): integers, text and JSON."""

from __future__ import annotations

import json

import pytest
from rest_framework import serializers

from core.errors import ApplicationError
from core.inputs import (
    MAX_ID,
    MAX_JSON_DEPTH,
    JSONTooDeep,
    int_field,
    int_fields,
    ints_valid,
    json_loads,
    text_field,
)


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("5", 5), ("007", 7), (str(MAX_ID), MAX_ID)])
def test_it_reads_ascii_digits(raw, value):
    assert int_field(raw, field="n") == value


@pytest.mark.parametrize(
    "raw",
    [
        "²",  # str.isdigit() accepts it; int() refuses it
        "٣",  # int() reads it as 3
        "\uff13",  # fullwidth three: int() reads it as 3
        "9" * 5000,  # int() refuses more than 4,300 digits
        "9" * 33,
        str(MAX_ID + 1),
        "",
        " 1",
        "1 ",
        "+1",
        "1.0",
        "1e3",
        "1_000",
        "0x10",
        "1\x00",
        "1\n",
    ],
)
def test_it_refuses_anything_else_naming_the_field(raw):
    with pytest.raises(ApplicationError) as refused:
        int_field(raw, field="confidence")
    assert refused.value.status == 400
    assert refused.value.fields == {"confidence": "A whole number in digits 0-9."}
    assert refused.value.message.startswith("confidence: ")
    assert len(refused.value.message) < 100  # what was sent is shown cut short


def test_it_keeps_to_the_range_it_is_given():
    assert int_field("5", field="confidence", maximum=5) == 5
    assert int_field("-3", field="offset", minimum=-5) == -3
    for raw in ("6", "-1"):
        with pytest.raises(ApplicationError) as refused:
            int_field(raw, field="confidence", maximum=5)
        assert refused.value.fields == {"confidence": "A whole number from 0 to 5."}


def test_its_advice_can_be_the_pages_own():
    with pytest.raises(ApplicationError) as refused:
        int_field("²", field="ideas", message="Tick key ideas from the list.")
    assert refused.value.fields == {"ideas": "Tick key ideas from the list."}
    assert refused.value.message == "ideas: Tick key ideas from the list. Got '²'."


def test_repeated_fields_are_all_read_or_refused():
    assert int_fields(["1", "2"], field="ideas") == [1, 2]
    with pytest.raises(ApplicationError):
        int_fields(["1", "²"], field="ideas")
    assert ints_valid(["1", "²", "9" * 5000, "7"]) == [1, 7]
    assert ints_valid(["3", "6"], maximum=5) == [3]


def test_text_with_a_nul_is_refused_as_the_api_refuses_it():
    # given: the API's rule, DRF's CharField
    with pytest.raises(serializers.ValidationError) as api:
        serializers.CharField().run_validation("a\x00b")
    # when
    with pytest.raises(ApplicationError) as page:
        text_field("a\x00b", field="text")
    # then: the same words, naming the field
    assert page.value.fields == {"text": str(api.value.detail[0])}
    assert text_field("ümlaut ² ٣", field="text") == "ümlaut ² ٣"


def test_json_is_parsed_to_a_bounded_depth():
    deep_enough = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_loads(deep_enough) is not None
    assert json_loads('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    for too_deep in (
        "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
        '{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1),
        "[" * 100_000,  # json.loads raises RecursionError on this
    ):
        with pytest.raises(JSONTooDeep):
            json_loads(too_deep)
    with pytest.raises(json.JSONDecodeError):
        json_loads("[1,")
