"""Reading partner payloads defensively: the helpers every mapper shares.

A mapper never raises on what a partner sends; these turn any JSON value into a number, a short
printable excerpt, or a canonical text, and name its kind for a problem message.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

# Longest excerpt of a bad value kept on a Problem (payloads may hold megabyte strings).
VALUE_EXCERPT_CHARS = 200


def number(value: Any) -> tuple[Decimal | None, str | None]:
    """(Decimal, received text); (None, received text) when it is not a finite number."""
    if value is None:
        return None, None
    kind_ = type(value)
    # Fast paths for what JSON gives (most values on most orders): the same text `excerpt` makes,
    # without a json.dumps per number.
    if kind_ is int:
        try:
            text = str(value)
        except ValueError:  # beyond Python's int → str digit limit: not a number an order holds
            return None, excerpt(value)
        return Decimal(value), (text if len(text) <= VALUE_EXCERPT_CHARS else excerpt(text))
    if kind_ is float and math.isfinite(value):
        return Decimal(repr(value)), repr(value)
    if kind_ is str:
        text = value.strip()
        raw = text if len(text) <= VALUE_EXCERPT_CHARS else excerpt(text)
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            return None, raw
        return (number if number.is_finite() else None), raw
    raw = excerpt(value.strip() if isinstance(value, str) else value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None, raw
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError):
        return None, raw
    return (number if number.is_finite() else None), raw


def number_text(value: int | float | Decimal) -> str | None:
    """A number used as text (ids, zip codes): 431.0 reads as "431"; NaN/inf are not text."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    try:
        return str(value) if not isinstance(value, Decimal) or value.is_finite() else None
    except ValueError:  # an int beyond Python's str() digit limit
        return None


def excerpt(value: Any) -> str:
    """Short, printable text of any value for a Problem, never failing."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            text = f"<{kind(value)}>"
    return text[:VALUE_EXCERPT_CHARS] + ("…" if len(text) > VALUE_EXCERPT_CHARS else "")


def canonical_json(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          default=str)
    except (TypeError, ValueError, RecursionError):
        return f"<{kind(value)}>"


def kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value),
                                                                        type(value).__name__)
