"""The import's fast paths read and write exactly what the careful paths they short-cut would
(issue 15): dates by ``fromisoformat``, JSON by orjson, a line's texts inline, the drift count's
set tests, the mappers' records built as plain dataclasses."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import FrozenInstanceError, field, fields, make_dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import PartnerOrder, PartnerOrderLine
from connectors.brandboom import contract as bb
from connectors.drift import DriftCounter
from connectors.http import json_body
from connectors.payload import Reader, parse_date
from models.orders import ZSTD_MAGIC, pack_payload, unpack_payload
from services.holding import UNSAFE_JSON, raw_hash, raw_json, unsafe_json


def strptime_only(text: str, formats: tuple[str, ...]) -> date | None:
    text = text.strip()
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


day_texts = st.one_of(
    st.dates().map(date.isoformat),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.from_regex(r"\A\s?\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?\s?\Z"),  # 2026-02-30, 2026-13-01 …
    st.text(max_size=24),
)


@given(day_texts)
def test_a_date_reads_as_strptime_reads_it(text: str) -> None:
    for formats in (bb.DATE_FORMATS, ("%m/%d/%Y", "%Y-%m-%d"), ("%Y-%m-%d",)):
        assert parse_date(text, formats) == strptime_only(text, formats)


def test_dates_that_do_not_exist_are_no_date() -> None:
    assert parse_date("2026-02-30", bb.DATE_FORMATS) is None
    assert parse_date("2026-02-28 25:00:00", bb.DATE_FORMATS) is None
    assert parse_date("٢٠٢٦-٠١-٠٢", ("%Y-%m-%d",)) == strptime_only("٢٠٢٦-٠١-٠٢", ("%Y-%m-%d",))


def json_values(depth: int = 3) -> st.SearchStrategy[object]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(), st.decimals(allow_nan=False)
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
        max_leaves=12,
    )


@given(json_values())
def test_the_stored_text_holds_what_pg_safe_would(value: object) -> None:
    """Whichever encoder wrote it, the text reads back as the careful path's value."""
    from core.pgtext import pg_safe

    text = raw_json(value)
    careful = json.loads(json.dumps(pg_safe(value), sort_keys=True, default=str))
    assert json.loads(text) == careful
    assert "\\u0000" not in text
    assert raw_hash(value) == raw_hash(value, text)


@pytest.mark.parametrize(
    "value",
    [
        {"name": "a\x00b"},  # NUL: made storable
        {"name": "\ud800"},  # a lone surrogate: orjson refuses it, the careful path replaces it
        {"n": 2**70},  # beyond 64 bits: orjson refuses it
        {1: "a", "b": 2},  # keys of mixed types
        {"x": float("nan"), "y": float("inf")},
    ],
)
def test_what_orjson_refuses_goes_the_careful_way(value: object) -> None:
    from core.pgtext import pg_safe

    assert json.loads(raw_json(value)) == json.loads(json.dumps(pg_safe(value), sort_keys=True, default=str))


def response(body: bytes, content_type: str = "application/json") -> requests.Response:
    r = requests.Response()
    r._content = body
    r.status_code = 200
    r.headers["Content-Type"] = content_type
    return r


@pytest.mark.parametrize(
    "body",
    [
        b'{"orders": [{"id": 1, "price": 12.5}]}',
        b'{"n": NaN, "big": 123456789012345678901234567890}',  # what only the standard decoder takes
        '{"name": "caf\u00e9"}'.encode("utf-16"),  # another encoding, told by requests
        b'\xef\xbb\xbf{"bom": true}',
    ],
)
def test_a_body_decodes_as_requests_decodes_it(body: bytes) -> None:
    expected = response(body).json()
    got = json_body(response(body), "GET /orders", "brandboom")
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_texts_reads_each_field_as_text_does() -> None:
    item = {"a": "  x ", "b": "", "c": None, "d": 431.0, "e": ["no"], "f": True}
    fields = [(k, k) for k in "abcdefg"]
    one, many = Reader(lambda _: None, ""), Reader(lambda _: None, "")
    assert many.texts(item, fields, "items", 3) == {k: one.text(item, k, "items", 3) for k in "abcdefg"}
    assert many.problems == one.problems and len(one.problems) == 2


class Frozen(Mapping[str, Any]):
    """A mapping that is not a dict: what the ABC check (the careful path) is still there for."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


payload_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
# Orders near the contract: known keys (some blank or of the wrong type), unknown ones, items as
# objects or not, a customer as an object or not.
order_keys = st.sampled_from([*sorted(bb.PAYLOAD.known[""]), "shipTo", "extra", "customer.extra"])
item_dicts: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    st.sampled_from([*sorted(bb.PAYLOAD.known["items[]"]), "note", "colour"]), payload_values, max_size=6
)
orders: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "items": st.one_of(st.lists(st.one_of(item_dicts, payload_values), max_size=4), payload_values),
        "customer": st.one_of(
            st.dictionaries(
                st.sampled_from([*sorted(bb.PAYLOAD.known["customer"]), "vip"]), payload_values, max_size=5
            ),
            payload_values,
        ),
    }
).flatmap(lambda base: st.dictionaries(order_keys, payload_values, max_size=6).map(lambda extra: {**extra, **base}))


def careful_count(raws: list[Any]) -> tuple[int, Counter[str], Counter[str]]:
    """The drift count as its careful path reads it: every object by the ABC check, every
    difference as a set, every path split at each use."""
    contract = bb.PAYLOAD
    absent: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    n = 0

    def at(obj: Any, path: str) -> Any:
        for key in path.split("."):
            if not isinstance(obj, Mapping):
                return None
            obj = obj.get(key)
        return obj

    def extra(obj: Mapping[Any, Any], keys: frozenset[str]) -> list[Any]:
        diff = set(obj.keys()) - keys
        return [k for k in obj if k in diff]

    for raw in raws:
        if not isinstance(raw, Mapping):
            continue
        n += 1
        for expected in contract.fields:
            if not any(at(raw, p) not in (None, "", [], {}) for p in expected.paths):
                absent[expected.name] += 1
        found: set[str] = set()
        for where, keys in contract.known.items():
            if where.endswith("[]"):
                elements = at(raw, where[:-2])
                for element in elements if isinstance(elements, list) else ():
                    if isinstance(element, Mapping):
                        found.update(f"{where}.{k}" for k in extra(element, keys))
                continue
            obj = raw if not where else at(raw, where)
            if isinstance(obj, Mapping):
                found.update(f"{where}.{k}" if where else str(k) for k in extra(obj, keys))
        unknown.update(found)
    return n, absent, unknown


@given(st.lists(orders, max_size=6), st.booleans())
def test_the_drift_count_counts_as_its_careful_path(raws: list[dict[str, Any]], as_mappings: bool) -> None:
    given_raws: list[Any] = [Frozen(r) for r in raws] if as_mappings else raws
    counter = DriftCounter(bb.PAYLOAD)
    for raw in given_raws:
        counter.add(raw)
    assert (counter.orders, counter.absent, counter.unknown) == careful_count(given_raws)


def test_a_record_is_built_plain_and_compares_and_hashes_as_a_frozen_dataclass() -> None:
    # What PartnerOrderLine was declared as before: the same fields, frozen.
    twin = make_dataclass(
        "FrozenLine", [(f.name, f.type, field(default=f.default)) for f in fields(PartnerOrderLine)], frozen=True
    )
    twin.__qualname__ = PartnerOrderLine.__qualname__
    a, b = (
        PartnerOrderLine(line_no=1, size="M", price=Decimal("2.50")),
        PartnerOrderLine(1, size="M", price=Decimal("2.5")),
    )
    frozen = twin(line_no=1, size="M", price=Decimal("2.50"))
    assert a == b and hash(a) == hash(b) == hash(frozen)  # (a dataclass hashes the tuple of its fields)
    assert repr(a) == repr(frozen)
    assert replace(a, size="L").size == "L" and a.size == "M"
    assert {a, b} == {a}
    # An order holding its lines compares as before too.
    assert PartnerOrder("1", raw={}, lines=(a,)) == PartnerOrder("1", raw={}, lines=(b,))
    with pytest.raises(FrozenInstanceError):
        frozen.size = "L"
    # (A record's fields are read-only for mypy, which `make lint` runs; at run time nothing stops
    # an assignment, and nothing in Bobbin makes one: mypy would refuse it.)


@given(
    st.lists(st.sampled_from(["\\", "u", "0000", "d8", "df", "NaN", "Na", "Infinity", "nity", "x", "é"]), max_size=12)
)
def test_unsafe_json_finds_what_its_regex_finds(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert unsafe_json(text) == (UNSAFE_JSON.search(text) is not None)


@given(json_values())
def test_a_packed_payload_unpacks_to_the_same_value_and_zlib_ones_still_read(value: object) -> None:
    text = raw_json(value)
    packed = pack_payload(text)
    assert packed[:4] == ZSTD_MAGIC
    assert json.dumps(unpack_payload(packed), sort_keys=True) == json.dumps(json.loads(text), sort_keys=True)
    # A payload packed before (zlib, level 1) reads the same
    legacy = zlib.compress(text.encode("utf-8", "surrogatepass"), 1)
    assert json.dumps(unpack_payload(legacy), sort_keys=True) == json.dumps(json.loads(text), sort_keys=True)
