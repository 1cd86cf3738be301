"""Who is asking: signing in and out, and ``require(role)`` — the guard every console route wears.

``@require("operator")`` on an endpoint means: the visitor is signed in (else a page is redirected
to the sign-in form, and a form post is refused), a POST carries its session's CSRF token (else
403), and the account's role reaches ``operator`` (else 403, saying which role it needs). The
account is read at every request, so a disabled account or a changed role takes effect at once.
The endpoint finds the visitor in ``request.state.visitor`` (``visitor(request)``), and records
each change with ``services.users.record_action(session, visitor.user, …)``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.db import session_scope
from core.settings import get_settings
from services import users
from web.console import sessions
from web.console.render import error_page, render

log = structlog.get_logger()

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Visitor:
    """A signed-in visitor: the account (as it is now) and the session."""

    user: users.User
    session: sessions.Session


def visitor(request: Request) -> Visitor:
    """The signed-in visitor of a request that passed ``require``."""
    found = getattr(request.state, "visitor", None)
    assert isinstance(found, Visitor), "visitor() is for endpoints guarded by require()"
    return found


def _load_visitor(cookie: str | None) -> Visitor | None:
    session = sessions.load(cookie)
    if session is None:
        return None
    with session_scope() as s:
        user = users.get_user(s, session.user_id)
    if user is None or not user.active:
        sessions.end(session)
        return None
    return Visitor(user, session)


async def load_visitor(request: Request) -> Visitor | None:
    found = await run_in_threadpool(_load_visitor, request.cookies.get(sessions.COOKIE))
    if found is not None:
        request.state.visitor = found
    return found


def _secure(request: Request) -> bool:
    return get_settings().console_url(str(request.base_url)).startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=_secure(request))


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=_secure(request))


def safe_next(target: str | None) -> str:
    """A place in this console to go after signing in: a local path, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if target == "/" else f"/login?next={quote(target, safe='')}"
    if request.headers.get("hx-request"):  # a fragment polled by htmx: send the whole page there
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


CSRF_REFUSED = (
    "This form was refused: it did not carry this session's security token (it may come from an old "
    "page or from another site). Reload the page and try again."
)


async def csrf_ok(request: Request, expected: str) -> bool:
    form = await request.form()
    return sessions.tokens_match(expected, form.get(sessions.CSRF_FIELD))


def require(role: str) -> Callable[[Endpoint], Endpoint]:
    """Guard an endpoint: signed in, the CSRF token on a POST, a role of at least ``role``."""
    users.check_role(role)

    def guard(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            found = await load_visitor(request)
            if found is None:
                if request.method == "GET":
                    return _to_login(request)
                return error_page(request, 403, "Signed out", "Your session has ended. Sign in again, then retry.")
            if request.method == "POST" and not await csrf_ok(request, found.session.csrf):
                log.warning("console_csrf_refused", user=found.user.username, path=request.url.path)
                return error_page(request, 403, "Refused", CSRF_REFUSED)
            if not found.user.allows(role):
                log.info("console_role_refused", user=found.user.username, role=found.user.role, needs=role)
                return error_page(
                    request,
                    403,
                    "Not allowed",
                    f"Your role ({found.user.role}) cannot do this: it needs {role}. An admin can change "
                    f"roles with `bobbin users set-role {found.user.username} {role}`.",
                )
            if request.method == "GET" and not request.headers.get("hx-request"):
                # a page (not a polled fragment) shows the message the request before left
                request.state.flash = await run_in_threadpool(sessions.pop_flash, found.session)
            return await endpoint(request)

        return guarded

    return guard


# --- signing in and out ---------------------------------------------------------------------------


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_form(
    request: Request, *, username: str = "", error: str | None = None, status_code: int = 200, notice: str = ""
) -> Response:
    nonce, new_cookie = sessions.login_binding(request.cookies.get(sessions.LOGIN_COOKIE))
    response = render(
        request,
        "login.html",
        {
            "login_csrf": sessions.login_csrf(nonce),
            "username": username,
            "error": error,
            "notice": notice,
            "next": safe_next(request.query_params.get("next")),
        },
        status_code=status_code,
    )
    if new_cookie:
        set_cookie(request, response, sessions.LOGIN_COOKIE, new_cookie, max_age=sessions.LOGIN_FORM_SECONDS)
    return response


async def login_page(request: Request) -> Response:
    if await load_visitor(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    notice = "You are signed out." if request.query_params.get("signed_out") else ""
    return _login_form(request, notice=notice)


def _sign_in(username: str, password: str, ip: str) -> tuple[users.User | None, int, str]:
    """(the account, 0, its name) on success; (None, seconds locked or 0, the name for the log)
    when refused. The log names an account that exists, and never what else was typed (it may be
    a password typed in the wrong field)."""
    with session_scope() as s:
        known = users.existing_username(s, username)
    logged = known or "(no such account)"
    wait = sessions.locked_for(username, ip)
    if wait:
        return None, wait, logged
    with session_scope() as s:
        user = users.authenticate(s, username, password)
        if user is not None:
            users.record_action(s, user, "login", detail={"ip": ip})
    if user is None:
        sessions.note_failure(username, ip)
        return None, 0, logged
    sessions.clear_failures(username, ip)
    return user, 0, logged


async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    if not sessions.login_csrf_ok(request.cookies.get(sessions.LOGIN_COOKIE), form.get(sessions.CSRF_FIELD)):
        return error_page(request, 403, "Refused", CSRF_REFUSED)
    if not username or not password:
        return _login_form(request, username=username, error="Type your name and your password.", status_code=400)
    ip = _client_ip(request)
    user, wait, logged = await run_in_threadpool(_sign_in, username, password, ip)
    if wait:
        minutes = (wait + 59) // 60
        log.warning("console_login_rate_limited", username=logged, ip=ip)
        return _login_form(
            request,
            username=username,
            error=f"Too many failed sign-ins for this name from your address. Try again in {minutes} min.",
            status_code=429,
        )
    if user is None:
        log.info("console_login_failed", username=logged, ip=ip)
        return _login_form(request, username=username, error="Wrong name or password.", status_code=401)
    session, cookie = await run_in_threadpool(sessions.create, user.id)
    log.info("console_login", user=user.username, ip=ip)
    target = safe_next(str(form.get("next") or "/"))
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, sessions.COOKIE, cookie)  # a browser-session cookie; the server ends it too
    clear_cookie(request, response, sessions.LOGIN_COOKIE)
    return response


@require("viewer")
async def logout(request: Request) -> Response:
    found = visitor(request)

    def end() -> None:
        sessions.end(found.session)
        with session_scope() as s:
            users.record_action(s, found.user, "logout")

    await run_in_threadpool(end)
    log.info("console_logout", user=found.user.username)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    clear_cookie(request, response, sessions.COOKIE)
    return response
