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


_OPENING = {"[": "]", "(": ")", "{": "}"}
_CLOSING = {v: k for k, v in _OPENING.items()}
_QUOTES = ("'", '"')


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``NAME[:k=v,...]`` into the name and its keyword arguments.

    Values are JSON (numbers, lists in brackets, tables in braces, true/false), else strings.
    Items split only at commas outside quotes and brackets, so a list or a formula may hold
    commas: ``piecewise_constant:edges=[0,1,2],values=[0,5]``,
    ``potential:V="where(x>0,20,0)",domain=[-2,2]``. A value in quotes (``'...'`` or
    ``"..."``) is that string, never JSON.

    Raises
    ------
    UsageError
        An unclosed quote or bracket, an unbalanced closing bracket, or an item without ``=``.
    """
    name, _, rest = spec.partition(":")
    kwargs: dict[str, Any] = {}
    for entry in _top_level_items(spec, rest):
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"bad option {entry!r} in {spec!r}; expected key=value")
        kwargs[key.strip()] = _value(value.strip())
    return name.strip(), kwargs


def _top_level_items(spec: str, text: str) -> list[str]:
    """``text`` cut at the commas that are outside every quote and bracket."""
    items, item, open_brackets, quote = [], "", [], None
    for char in text:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in _QUOTES:
            quote = char
        elif char in _OPENING:
            open_brackets.append(char)
        elif char in _CLOSING:
            if not open_brackets or open_brackets[-1] != _CLOSING[char]:
                raise UsageError(f"bad spec {spec!r}: unbalanced {char!r}")
            open_brackets.pop()
        elif char == "," and not open_brackets:
            items.append(item)
            item = ""
            continue
        item += char
    if quote is not None:
        raise UsageError(f"bad spec {spec!r}: unclosed quote {quote}")
    if open_brackets:
        raise UsageError(f"bad spec {spec!r}: unclosed {open_brackets[-1]!r}")
    if item:
        items.append(item)
    return items


def _value(text: str) -> Any:
    """A quoted value is its text; anything else goes through :func:`parse_value`."""
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == text[0] and text[0] not in text[1:-1]:
        return text[1:-1]
    return parse_value(text)


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
