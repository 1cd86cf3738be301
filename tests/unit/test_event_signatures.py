"""The helpers partners' event sources sign and read with (connectors/events.py), and the toy
partner's source built on them: HMAC-SHA256 over the raw body, a constant-time comparison that
never matches a missing signature, JSON bodies, signed times."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from connectors.events import (
    EventSource,
    InboundEvent,
    MalformedEvent,
    hmac_sha256,
    json_object,
    signature_matches,
    unix_time,
)
from tests import toy_events as toy

SECRET = "whsec-unit-secret"
BODY = b'{"id": "evt_1", "topic": "return.created"}'


def test_hmac_sha256_is_the_standard_digest_in_hex_and_base64() -> None:
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    assert hmac_sha256(SECRET, BODY) == digest.hex()
    assert hmac_sha256(SECRET, BODY, encoding="base64") == base64.b64encode(digest).decode()
    # RFC 4231 test case 2
    assert hmac_sha256("Jefe", b"what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_signature_matches_only_the_same_signature() -> None:
    expected = hmac_sha256(SECRET, BODY)
    assert signature_matches(expected, expected)
    assert signature_matches(expected, f"  {expected}\n")  # a header's surrounding blanks
    assert not signature_matches(expected, expected[:-1] + ("0" if expected[-1] != "0" else "1"))
    assert not signature_matches(expected, expected.upper())
    assert not signature_matches(expected, hmac_sha256("other-secret", BODY))
    assert not signature_matches(expected, None)
    assert not signature_matches(expected, "")


def test_json_object_says_what_is_wrong() -> None:
    assert json_object(BODY) == {"id": "evt_1", "topic": "return.created"}
    with pytest.raises(MalformedEvent, match="not JSON"):
        json_object(b'{"id": ')
    with pytest.raises(MalformedEvent, match="not UTF-8"):
        json_object(b'{"id": "\xff"}')
    with pytest.raises(MalformedEvent, match=r"not an object \(a list\)"):
        json_object(b"[]")


def test_unix_time_reads_seconds_or_nothing() -> None:
    assert unix_time("1764662400") == 1764662400.0
    assert unix_time(" 1764662400.5 ") == 1764662400.5
    for bad in (None, "", "yesterday", "nan", "inf"):
        assert unix_time(bad) is None


def test_a_replay_window_needs_a_signed_time() -> None:
    with pytest.raises(ValueError, match="needs timestamp"):
        EventSource(secret_field="s", verify=toy.verify, parse=toy.parse, replay_seconds=60)


def test_toy_source_signs_the_timestamp_with_the_body() -> None:
    headers = {"x-toy-timestamp": "1764662400", "x-toy-signature": toy.sign(SECRET, BODY, "1764662400")}
    assert toy.verify(BODY, headers, SECRET)
    assert not toy.verify(BODY, {**headers, "x-toy-timestamp": "1764662401"}, SECRET)  # time changed
    assert not toy.verify(BODY + b" ", headers, SECRET)  # body changed
    assert not toy.verify(BODY, headers, "another-secret")
    assert not toy.verify(BODY, {"x-toy-signature": headers["x-toy-signature"]}, SECRET)
    assert toy.timestamp(headers) == 1764662400.0
    assert toy.parse(BODY, headers) == InboundEvent(
        "evt_1", "return.created", {"id": "evt_1", "topic": "return.created"}
    )
