"""The import's fast paths read and write exactly what the careful paths they short-cut would
(issue 15): dates by ``fromisoformat``, JSON by orjson, a line's texts inline."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from connectors.brandboom import contract as bb
from connectors.http import json_body
from connectors.payload import Reader, parse_date
from services.holding import raw_hash, raw_json


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
