"""Reading partner payloads defensively: the helpers every mapper shares.

A mapper never raises on what a partner sends; these turn any JSON value into a number, a short
printable excerpt, or a canonical text, and name its kind for a problem message.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import UNIDENTIFIED_PREFIX, Problem

# The structural problem codes a mapper owns (the validator owns the rest).
PAYLOAD_INVALID = "payload_invalid"
DATES_INVALID = "dates_invalid"
# Longest partner order id taken as one: the id is a unique key, and an index entry has a size
# limit (a few KB); real ids are short numbers. A longer one is a payload problem.
MAX_ID_CHARS = 200

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


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
ISO_SECOND = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII)
ISO_SHAPES = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")


def parse_date(text: str, formats: Sequence[str]) -> date | None:
    """The date ``text`` holds in the first of ``formats`` (``strptime`` formats) that reads it;
    None when none does. A text shaped exactly as ``%Y-%m-%d`` or ``%Y-%m-%d %H:%M:%S`` (digits
    only) is read by ``fromisoformat`` when that format's turn comes: the same date in a tenth of
    the time (strptime was a tenth of a large import's mapping)."""
    text = text.strip()
    # A text of one ISO shape is not in the other ISO format (strptime would say "unconverted data
    # remains" or "does not match"): each is decided without strptime.
    shape = "%Y-%m-%d" if ISO_DAY.fullmatch(text) else "%Y-%m-%d %H:%M:%S" if ISO_SECOND.fullmatch(text) else None
    for fmt in formats:
        try:
            if shape is not None and fmt in ISO_SHAPES:
                if fmt != shape:
                    continue
                return date.fromisoformat(text) if shape == "%Y-%m-%d" else datetime.fromisoformat(text).date()
            return datetime.strptime(text, fmt).date()
        except ValueError:  # not in this format (2026-02-30 is in none): the next one tries
            continue
    return None


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
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return f"<{kind(value)}>"


def at(obj: Any, keys: Sequence[str]) -> Any:
    """The value under a path of keys (``("customer", "shipping")``), or None where the path does
    not lead through objects."""
    for key in keys:
        if obj.__class__ is not dict and not isinstance(obj, Mapping):  # (JSON's dict first: the ABC check is slow)
            return None
        obj = obj.get(key)
    return obj


def kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


class Reader:
    """Reads typed values out of an untrusted partner mapping, collecting a Problem for each it
    cannot read. One per order being mapped; each partner's mapper gives it how that partner writes
    dates (``parse_date``, ``date_formats`` for the message, and texts that mean "no date")."""

    def __init__(
        self, parse_date: Callable[[str], date | None], date_formats: str, empty_dates: Collection[str] = ()
    ) -> None:
        self.problems: list[Problem] = []
        self._parse_date = parse_date
        self._date_formats = date_formats
        self._empty_dates = empty_dates

    def problem(
        self, code: str, message: str, *, field: str | None = None, value: Any = None, line_no: int | None = None
    ) -> None:
        self.problems.append(
            Problem(
                code=code,
                message=message,
                field=field,
                value=None if value is None else excerpt(value),
                line_no=line_no,
            )
        )

    def order(self, raw: Any) -> Mapping[Any, Any]:
        """The order object itself; anything else is a problem and reads as an empty order."""
        if isinstance(raw, Mapping):
            return raw
        self.problem(PAYLOAD_INVALID, f"order is not an object but {kind(raw)}", value=raw)
        return {}

    def order_id(self, raw: Any, payload: Mapping[Any, Any], keys: str | Sequence[str]) -> str:
        """The partner's order id under the first of ``keys`` that has one (a partner's documents
        may spell it several ways), or a stable stand-in so the same broken payload lands on the
        same row (:func:`connectors.base.identified` tells the two apart)."""
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        key = next((k for k in keys if payload.get(k) is not None), keys[0])
        order_id = self.text(payload, key)
        if order_id is not None and len(order_id) <= MAX_ID_CHARS:
            return order_id
        if order_id is None:
            self.problem(PAYLOAD_INVALID, f"order has no {' or '.join(keys)}", field=keys[0])
        else:
            self.problem(PAYLOAD_INVALID, f"{key} is longer than {MAX_ID_CHARS} characters", field=key, value=order_id)
        # A stable name for the payload, not a security measure: SHA-1 is fine.
        digest = hashlib.sha1(canonical_json(raw).encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()
        return UNIDENTIFIED_PREFIX + digest[:16]

    def text(
        self, obj: Mapping[Any, Any], key: str, parent: str | None = None, line_no: int | None = None
    ) -> str | None:
        """A stripped string (numbers accepted, ids often are); blank → None; else a problem."""
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            text = number_text(value)
            if text is not None:
                return text
        where = f"{parent}.{key}" if parent else key
        self.problem(
            PAYLOAD_INVALID, f"{where} should be text but is {kind(value)}", field=where, value=value, line_no=line_no
        )
        return None

    def texts(
        self,
        obj: Mapping[Any, Any],
        fields: Sequence[tuple[str, str]],
        parent: str | None = None,
        line_no: int | None = None,
    ) -> dict[str, str | None]:
        """``text`` of each (name, key) of ``fields``, by name: a line's fields in one call, the
        plain-string case read inline (a mapper reads dozens of fields an order)."""
        out: dict[str, str | None] = {}
        for name, key in fields:
            value = obj.get(key)
            if value.__class__ is str:
                out[name] = value.strip() or None
            elif value is None:
                out[name] = None
            else:
                out[name] = self.text(obj, key, parent, line_no)
        return out

    def first_text(
        self, obj: Mapping[Any, Any], keys: Sequence[str], parent: str | None = None, line_no: int | None = None
    ) -> str | None:
        """The first of ``keys`` holding text; each key that holds a wrong type is a problem."""
        for key in keys:
            text = self.text(obj, key, parent, line_no)
            if text is not None:
                return text
        return None

    def date(self, obj: Mapping[Any, Any], key: str) -> date | None:
        """A date in one of the partner's formats; blank or a "no date" text → None; else a problem."""
        value = obj.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        parsed = self._parse_date(value) if isinstance(value, str) else None
        if parsed is None and not (isinstance(value, str) and value.strip() in self._empty_dates):
            self.problem(DATES_INVALID, f"{key} is not a date (expected {self._date_formats})", field=key, value=value)
        return parsed


def line_objects(reader: Reader, items: Any, field: str, noun: str) -> list[tuple[int, Mapping[Any, Any]]]:
    """An order's line items as (line number from 1, item) for each object in ``items`` (what the
    payload holds under ``field``). No list at all, or each element that is not an object, is a
    ``payload_invalid`` problem (``noun`` names an element in its message: "item 2 is not an object")."""
    if not isinstance(items, list):
        reason = f"has no {field}" if items is None else f"{field} is not a list but {kind(items)}"
        reader.problem(PAYLOAD_INVALID, f"order {reason}", field=field, value=items)
        return []
    found = []
    for line_no, item in enumerate(items, start=1):
        if item.__class__ is dict or isinstance(item, Mapping):  # (JSON's dict first: the ABC check is slow)
            found.append((line_no, item))
        else:
            reader.problem(
                PAYLOAD_INVALID,
                f"{noun} {line_no} is not an object but {kind(item)}",
                field=field,
                value=item,
                line_no=line_no,
            )
    return found
