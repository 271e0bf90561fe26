"""Parsing of command-line values: ``NAME[:k=v,...]`` specs, JSON-ish values, seed ranges."""

from __future__ import annotations

import json
from typing import Any


class UsageError(Exception):
    """Bad command-line input: reported on one line, exit code 2."""


def parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"1e-8"`` -> 1e-08, ``"[0, 1]"`` -> [0, 1], ``"true"`` -> True, else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``NAME[:k=v,...]`` into the name and its keyword arguments.

    Values are JSON (numbers, lists in brackets, true/false), else strings.
    A list value may itself contain commas: ``piecewise_constant:edges=[0,1,2],values=[0,5]``.
    """
    name, _, rest = spec.partition(":")
    kwargs: dict[str, Any] = {}
    depth, item, items = 0, "", []
    for char in rest:
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            items.append(item)
            item = ""
        else:
            item += char
    if item:
        items.append(item)
    for entry in items:
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"bad option {entry!r} in {spec!r}; expected key=value")
        kwargs[key.strip()] = parse_value(value.strip())
    return name.strip(), kwargs


def parse_seeds(text: str) -> list[int]:
    """``--seeds``: ``N`` is the first N seeds (0 .. N-1), ``a-b`` the seeds a .. b inclusive."""
    first, sep, last = text.partition("-")
    if sep:
        if not (first.isdigit() and last.isdigit()) or int(first) > int(last):
            raise UsageError(f"--seeds must be N or a-b with 0 <= a <= b, got {text!r}")
        return list(range(int(first), int(last) + 1))
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--seeds must be N >= 1 (seeds 0 .. N-1) or a-b, got {text!r}")
    return list(range(int(text)))
