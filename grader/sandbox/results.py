"""Turn what the sandbox sent back into plain trusted values, refusing anything malformed.

Runs in the trusted worker. Arrays arrive as raw bytes in the job's shared area, with a
declared dtype, shape and offset; they are rebuilt with numpy.frombuffer (never
unpickled) after checking the dtype against an allow-list and the extent against the area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np

ALLOWED_DTYPES = frozenset(
    np.dtype(name).str
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    )
)
MAX_ARRAY_DIMENSIONS = 8


class MalformedResult(ValueError):
    """The sandbox's answer does not follow the protocol (a bug or a forgery)."""


@dataclass(frozen=True)
class Unsupported:
    """A returned object the grader does not accept (a subclass, an object, a string...)."""

    type_name: str


Value: TypeAlias = "np.ndarray | float | bool | tuple[Value, ...] | Unsupported"


@dataclass
class CallResult:
    """What one call of the learner's function did."""

    returned: Value | None = None
    raised: tuple[str, str] | None = None
    inputs_after: list[Value] = field(default_factory=list)
    network_calls: list[tuple[bool, tuple[int, ...]]] = field(default_factory=list)


def arrays_decode(headers: Any, area: memoryview | bytes) -> list[np.ndarray]:
    """Rebuild the output arrays from their headers: read-only views into `area`.

    Each header gives dtype, shape and byte offset; arrays must lie inside the area, in
    order, without overlapping."""
    if not isinstance(headers, list):
        raise MalformedResult("the array headers are not a list")
    arrays: list[np.ndarray] = []
    end = 0
    for header in headers:
        if not isinstance(header, dict):
            raise MalformedResult("an array header is not an object")
        dtype_str = header.get("dtype")
        shape = header.get("shape")
        offset = header.get("offset")
        if dtype_str not in ALLOWED_DTYPES:
            raise MalformedResult(f"dtype {dtype_str!r} is not allowed")
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_ARRAY_DIMENSIONS
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        ):
            raise MalformedResult(f"bad shape {shape!r}")
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < end:
            raise MalformedResult(f"bad array offset {offset!r}")
        dtype = np.dtype(dtype_str)
        count = math.prod(shape)
        size = count * dtype.itemsize
        if offset + size > len(area):
            raise MalformedResult("an array lies outside the result area")
        array = np.frombuffer(area, dtype=dtype, count=count, offset=offset).reshape(shape)
        array.flags.writeable = False
        arrays.append(array)
        end = offset + size
    return arrays


def _value(tree: Any, arrays: list[np.ndarray], depth: int = 0) -> Value:
    if not isinstance(tree, dict) or depth > 4:
        raise MalformedResult("a result value is not a tree")
    kind = tree.get("kind")
    if kind == "array":
        index = tree.get("index")
        if not isinstance(index, int) or not 0 <= index < len(arrays):
            raise MalformedResult("an array index is out of range")
        return arrays[index]
    if kind == "scalar":
        value = tree.get("value")
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return float(value)
        if value in ("nan", "inf", "-inf"):
            return float(value)
        raise MalformedResult("a scalar is not a number")
    if kind == "sequence":
        items = tree.get("items")
        if not isinstance(items, list):
            raise MalformedResult("a sequence has no items")
        return tuple(_value(item, arrays, depth + 1) for item in items)
    if kind == "other":
        return Unsupported(str(tree.get("type", "?"))[:200])
    raise MalformedResult(f"unknown value kind {kind!r}")


def results_decode(results: Any, arrays: list[np.ndarray], expected_calls: int) -> list[CallResult]:
    """Return one CallResult per planned call, or raise MalformedResult."""
    if not isinstance(results, list) or len(results) != expected_calls:
        raise MalformedResult("the number of results does not match the plan")
    decoded = []
    for result in results:
        if not isinstance(result, dict):
            raise MalformedResult("a result is not an object")
        call = CallResult()
        if "raised" in result:
            raised = result["raised"]
            if not isinstance(raised, dict):
                raise MalformedResult("bad exception record")
            call.raised = (str(raised.get("type", "?"))[:100], str(raised.get("message", ""))[:500])
        elif "returned" in result:
            call.returned = _value(result["returned"], arrays)
        else:
            raise MalformedResult("a result neither returned nor raised")
        call.inputs_after = [_value(tree, arrays) for tree in result.get("inputs_after", [])]
        log = result.get("network_calls", [])
        if not isinstance(log, list) or len(log) > 100_000:
            raise MalformedResult("bad network call log")
        call.network_calls = [(bool(entry[0]), tuple(int(n) for n in entry[1])) for entry in log]
        decoded.append(call)
    return decoded
