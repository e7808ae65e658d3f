"""Run a plan of calls against the learner's functions and encode what came back.

This module runs INSIDE the sandbox (in the forked child), so it imports only the
standard library and numpy, and it must never decide whether anything is right: it
returns plain values (JSON-able trees plus raw arrays) for the trusted worker to judge.
It is also used in-process by tests of the check statistics, on trusted code only.

A plan is JSON:
  {"calls": [{"function": "dropout_forward",
              "args": [ARG, ...],
              "return_inputs": false}, ...]}
with ARG one of
  {"array": i}                       a fresh copy of input array i
  {"generated": {"seed": s, "shape": [...], "block": b}}
                                     a fresh copy of an input made here from a seed
                                     (generated_input); the trusted side makes the
                                     same array again from the same spec to judge the
                                     output, so nothing the child does to it counts
  {"value": x}                       a JSON scalar (number, bool, string, null)
  {"rng": "name", "seed": s}         numpy.random.default_rng(s), created once per name
                                     and shared by every call that names it
  {"network": {"weights": [i, j, k, l], "p": 0.5}}
                                     a stochastic forward(x, training, rng) function
                                     (a one-hidden-layer ReLU network with inverted
                                     dropout on the hidden layer); its calls are logged
Before any call, `missing_functions` names the plan's functions the module lacks, so that
the child can report those instead of running anything. A MemoryError or RecursionError
is not a call's result: it ends the plan (run_plan lets it through) and the child reports
that the code exhausted the limit.
Each call's result is
  {"returned": TREE} or {"raised": {"type": name, "message": text}}
  plus "inputs_after": [TREE, ...] when return_inputs is set, and
  "network_calls": [[training, batch_shape], ...] when a network was passed.
TREE is {"kind": "array", "index": k, "type": "ndarray"} (k into the output arrays),
{"kind": "scalar", "value": v, "type": name}, {"kind": "sequence", "items": [...],
"type": name}, or {"kind": "other", "type": name}.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MAX_TREE_DEPTH = 3
MAX_SEQUENCE_ITEMS = 16
MAX_MESSAGE = 500
ALLOWED_DTYPE_KINDS = "biuf"
MAX_DEFINED_NAMES = 20
# Running out of these is not an answer the code gave: it ends the plan.
EXHAUSTION = (MemoryError, RecursionError)


class ResultTooLarge(Exception):
    """The calls returned more array bytes than the job area has room for."""

    def __init__(self, nbytes: int) -> None:
        super().__init__(nbytes)
        self.nbytes = nbytes


class _Outputs:
    """The arrays a plan's results refer to, in order, within a budget of bytes."""

    def __init__(self, max_bytes: int | None) -> None:
        self.arrays: list[np.ndarray] = []
        self.max_bytes = max_bytes
        self.nbytes = 0

    def add(self, array: np.ndarray) -> int:
        # Refused as they come, before holding them all exhausts the memory.
        self.nbytes += array.nbytes
        if self.max_bytes is not None and self.nbytes > self.max_bytes:
            raise ResultTooLarge(self.nbytes)
        self.arrays.append(array)
        return len(self.arrays) - 1


def _encode(value: Any, outputs: _Outputs, depth: int = 0) -> dict[str, Any]:
    kind = type(value)
    if kind is np.ndarray:
        if value.dtype.kind not in ALLOWED_DTYPE_KINDS:
            return {"kind": "other", "type": f"ndarray of {value.dtype}"}
        return {
            "kind": "array",
            "index": outputs.add(np.ascontiguousarray(value)),
            "type": "ndarray",
        }
    if isinstance(value, np.ndarray):  # a subclass: report it, never trust it
        return {"kind": "other", "type": f"{kind.__module__}.{kind.__name__}"}
    if kind in (bool, np.bool_):
        return {"kind": "scalar", "value": bool(value), "type": kind.__name__}
    if kind is int or (isinstance(value, np.integer) and kind.__module__ == "numpy"):
        return {"kind": "scalar", "value": float(int(value)), "type": kind.__name__}
    if kind is float or (isinstance(value, np.floating) and kind.__module__ == "numpy"):
        number = float(value)
        return {
            "kind": "scalar",
            "value": number if math.isfinite(number) else repr(number),
            "type": kind.__name__,
        }
    if kind in (tuple, list) and depth < MAX_TREE_DEPTH and len(value) <= MAX_SEQUENCE_ITEMS:
        return {
            "kind": "sequence",
            "items": [_encode(item, outputs, depth + 1) for item in value],
            "type": kind.__name__,
        }
    return {"kind": "other", "type": f"{kind.__module__}.{kind.__name__}"}


def _network(
    weights: Sequence[np.ndarray], p: float, log: list[list[Any]]
) -> Callable[..., np.ndarray]:
    w1, b1, w2, b2 = (np.array(w, copy=True) for w in weights)

    def forward(x: Any, training: Any, rng: Any) -> np.ndarray:
        """A stochastic network: ReLU hidden layer with inverted dropout in training."""
        batch = np.asarray(x, dtype=np.float64)
        log.append([bool(training), list(batch.shape)])
        hidden = np.maximum(batch @ w1 + b1, 0.0)
        if training:
            keep = rng.random(hidden.shape) >= p
            hidden = hidden * keep / (1.0 - p)
        return np.asarray(hidden @ w2 + b2)

    return forward


def generated_input(spec: dict[str, Any]) -> np.ndarray:
    """The input a `generated` argument names: `block` float32 values in [0.5, 2) drawn from
    `seed`, tiled to `shape` (tiling: a quarter of a million values for the price of a block).

    Run in the child to make the input without sending it, and in the trusted worker to
    make it again for judging: both get the same values from the same spec, and the trusted
    side never reads the child's copy. Positive values: 0 in an output means dropped."""
    rng = np.random.default_rng(int(spec["seed"]))
    block = np.float32(0.5) + np.float32(1.5) * rng.random(int(spec["block"]), dtype=np.float32)
    return np.resize(block, tuple(int(n) for n in spec["shape"]))


def missing_functions(namespace: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Return the functions the plan calls that the learner's module does not define."""
    names = dict.fromkeys(call["function"] for call in plan["calls"])
    return [name for name in names if not callable(namespace.get(name))]


def defined_functions(namespace: dict[str, Any]) -> list[str]:
    """Return the names of the functions the learner's module defines (a few)."""
    return [
        name
        for name, value in namespace.items()
        if isinstance(value, types.FunctionType) and not name.startswith("_")
    ][:MAX_DEFINED_NAMES]


def run_plan(
    namespace: dict[str, Any],
    plan: dict[str, Any],
    arrays: Sequence[np.ndarray],
    max_output_bytes: int | None = None,
) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """Run every call of the plan; return the encoded results and the output arrays.

    A MemoryError or RecursionError from a call is raised, not recorded (see above), and
    so is ResultTooLarge once the output arrays pass `max_output_bytes`."""
    outputs = _Outputs(max_output_bytes)
    rngs: dict[str, np.random.Generator] = {}
    generated: dict[str, np.ndarray] = {}  # made once per spec, a fresh copy per call
    results: list[dict[str, Any]] = []
    for call in plan["calls"]:
        log: list[list[Any]] = []
        args: list[Any] = []
        passed_arrays: list[np.ndarray] = []
        for spec in call["args"]:
            if "array" in spec:
                copy = np.array(arrays[spec["array"]], copy=True)
                passed_arrays.append(copy)
                args.append(copy)
            elif "generated" in spec:
                key = repr(sorted(spec["generated"].items()))
                if key not in generated:
                    generated[key] = generated_input(spec["generated"])
                copy = np.array(generated[key], copy=True)
                passed_arrays.append(copy)
                args.append(copy)
            elif "rng" in spec:
                if spec["rng"] not in rngs:
                    rngs[spec["rng"]] = np.random.default_rng(spec["seed"])
                args.append(rngs[spec["rng"]])
            elif "network" in spec:
                network = spec["network"]
                args.append(_network([arrays[i] for i in network["weights"]], network["p"], log))
            else:
                args.append(spec["value"])
        result: dict[str, Any] = {}
        function = namespace.get(call["function"])
        if not callable(function):
            result["raised"] = {
                "type": "MissingFunction",
                "message": f"no function named {call['function']}",
            }
        else:
            try:
                result["returned"] = _encode(function(*args), outputs)
            except (*EXHAUSTION, ResultTooLarge):
                raise
            except BaseException as error:  # the learner's code may raise anything, even SystemExit
                result["raised"] = {"type": type(error).__name__, "message": _message(error)}
        if call.get("return_inputs"):
            result["inputs_after"] = [_encode(array, outputs) for array in passed_arrays]
        if any("network" in spec for spec in call["args"]):
            result["network_calls"] = log
        results.append(result)
    return results, outputs.arrays


def _message(error: BaseException) -> str:
    try:
        text = str(error)
    except BaseException:  # a hostile __str__
        text = "(the exception's message could not be read)"
    return text[:MAX_MESSAGE]
