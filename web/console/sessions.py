"""Console sessions, CSRF tokens and the sign-in rate limit, kept in Redis.

- **Session**: a random id, kept server-side in Redis (the user's id, a flash message) and handed
  to the browser only inside a signed cookie (itsdangerous, keyed by ``Settings.console_signing_key``):
  HttpOnly, SameSite=Lax, Secure when the console is reached over https. Signing out deletes the
  server-side record, so the cookie is worth nothing afterwards, even replayed. A session ends after
  ``IDLE_SECONDS`` without a request and ``MAX_SECONDS`` after sign-in, whichever comes first.
- **CSRF**: each session's token is an HMAC of its id; every POST form carries it in a hidden
  field (``csrf_token``). The sign-in form, drawn before there is a session, is bound the same way
  to a random value in a second signed cookie.
- **Rate limit**: ``MAX_FAILURES`` failed sign-ins for one name from one address within
  ``FAILURE_WINDOW`` seconds, and further tries (even with the right password) are refused until
  the window passes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
from itsdangerous import BadSignature, URLSafeTimedSerializer

from core import runtime
from core.logging import register_secret
from core.settings import get_settings

COOKIE = "bobbin_session"
LOGIN_COOKIE = "bobbin_login"  # binds the sign-in form's CSRF token before there is a session
CSRF_FIELD = "csrf_token"
IDLE_SECONDS = 8 * 3600
MAX_SECONDS = 24 * 3600
LOGIN_FORM_SECONDS = 3600
MAX_FAILURES = 5
FAILURE_WINDOW = 15 * 60
_PREFIX = "bobbin:console:"


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5, decode_responses=True)


def store() -> redis.Redis:
    """The Redis the sessions live in (the broker's: REDIS_URL, or the embedded one)."""
    return _client(runtime.redis_url(get_settings()))


def _key() -> bytes:
    key = get_settings().console_signing_key()
    register_secret(key.hex())
    return key


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_key(), salt=salt)


def _hmac(purpose: str, value: str) -> str:
    return hmac.new(_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def tokens_match(expected: str, given: Any) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


# --- sessions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    sid: str
    user_id: int

    @property
    def csrf(self) -> str:
        return _hmac("csrf", self.sid)


def _skey(sid: str) -> str:
    return f"{_PREFIX}session:{sid}"


def create(user_id: int) -> tuple[Session, str]:
    """A new session for the user: (session, the cookie value to set)."""
    sid = secrets.token_urlsafe(32)
    pipe = store().pipeline()
    pipe.hset(_skey(sid), mapping={"user_id": str(user_id), "created": str(int(time.time()))})
    pipe.expire(_skey(sid), IDLE_SECONDS)
    pipe.execute()
    return Session(sid, user_id), _serializer("session").dumps(sid)


def load(cookie: str | None) -> Session | None:
    """The live session the cookie names (its idle time restarts), or None: no cookie, a bad or
    expired signature, or a session that ended (signed out, expired)."""
    if not cookie:
        return None
    try:
        sid = _serializer("session").loads(cookie, max_age=MAX_SECONDS)
    except BadSignature:
        return None
    if not isinstance(sid, str):
        return None
    record = store().hgetall(_skey(sid))
    if not record or not record.get("user_id", "").isdigit():
        return None
    store().expire(_skey(sid), IDLE_SECONDS)
    return Session(sid, int(record["user_id"]))


def end(session: Session) -> None:
    store().delete(_skey(session.sid))


def flash(session: Session, message: str, kind: str = "info") -> None:
    """A message for the next page this session draws (after a redirect)."""
    store().hset(_skey(session.sid), mapping={"flash": message, "flash_kind": kind})


def pop_flash(session: Session) -> tuple[str, str] | None:
    pipe = store().pipeline()
    pipe.hmget(_skey(session.sid), ["flash", "flash_kind"])
    pipe.hdel(_skey(session.sid), "flash", "flash_kind")
    (message, kind), _ = pipe.execute()
    return (message, kind or "info") if message else None


# --- the sign-in form's CSRF binding -----------------------------------------------------------


def login_binding(cookie: str | None) -> tuple[str, str | None]:
    """(nonce, new cookie value or None): the nonce the sign-in form is bound to — the cookie's,
    when it carries a valid one, else a new one with the cookie to set."""
    if cookie:
        try:
            nonce = _serializer("login").loads(cookie, max_age=LOGIN_FORM_SECONDS)
            if isinstance(nonce, str):
                return nonce, None
        except BadSignature:
            pass
    nonce = secrets.token_urlsafe(24)
    return nonce, _serializer("login").dumps(nonce)


def login_csrf(nonce: str) -> str:
    return _hmac("login-csrf", nonce)


def login_csrf_ok(cookie: str | None, given: Any) -> bool:
    if not cookie:
        return False
    try:
        nonce = _serializer("login").loads(cookie, max_age=LOGIN_FORM_SECONDS)
    except BadSignature:
        return False
    return isinstance(nonce, str) and tokens_match(login_csrf(nonce), given)


# --- sign-in rate limit ---------------------------------------------------------------------------


def _fkey(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}\0{ip}".encode()).hexdigest()[:32]
    return f"{_PREFIX}login-failures:{digest}"


def locked_for(username: str, ip: str) -> int:
    """Seconds until sign-in may be tried again for this name from this address (0: now)."""
    key = _fkey(username, ip)
    pipe = store().pipeline()
    pipe.get(key)
    pipe.ttl(key)
    count, ttl = pipe.execute()
    if count is None or int(count) < MAX_FAILURES:
        return 0
    return max(int(ttl), 1)


def note_failure(username: str, ip: str) -> int:
    """Count a failed sign-in; returns the failures in the current window."""
    key = _fkey(username, ip)
    pipe = store().pipeline()
    pipe.set(key, 0, ex=FAILURE_WINDOW, nx=True)  # the window starts at the first failure
    pipe.incr(key)  # keeps the key's expiry
    _, count = pipe.execute()
    return int(count)


def clear_failures(username: str, ip: str) -> None:
    store().delete(_fkey(username, ip))
