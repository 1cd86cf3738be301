"""Drawing console pages: the Jinja2 environment (``web/templates``), ``render``, the error pages.

Every console page goes through ``render`` (or ``error_page``), which adds what each page needs —
the signed-in user, the CSRF token for its forms, the navigation the user's role may see, a flash
message left by the request before — and the headers every page carries: a Content-Security-Policy
allowing only this origin's scripts and styles, no framing, no caching of a signed-in page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from core.settings import get_settings

if TYPE_CHECKING:
    from web.console.auth import Visitor

WEB = Path(__file__).resolve().parent.parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    role: str  # the least role that sees it


# The console's sections, in the order of the navigation. A page joins by adding its route (and,
# if it is a section of its own, a line here).
NAV: tuple[NavItem, ...] = (
    NavItem("/", "Dashboard", "viewer"),
    NavItem("/holding", "Holding area", "viewer"),
    NavItem("/writebacks", "Writebacks", "viewer"),
    NavItem("/returns", "Returns", "viewer"),
    NavItem("/mappings", "Mappings", "viewer"),
    NavItem("/sites", "Sites", "admin"),
)


def _zone() -> Any:
    try:
        return ZoneInfo(get_settings().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def fmt_time(moment: datetime | None) -> str:
    """A moment as people read it, in BOBBIN_TIMEZONE: ``2026-12-03 09:15 UTC``."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(_zone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in words: ``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago``."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _asset_version() -> str:
    """Changes whenever a static file changes, so browsers fetch the new one."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(str(path.stat().st_size).encode())
            digest.update(str(int(path.stat().st_mtime)).encode())
    return digest.hexdigest()[:10]


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,  # a missing value is a bug to see, not an empty cell
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(when=fmt_time, ago=ago, iso=iso)
env.globals.update(plural=plural, asset_version=_asset_version())


def visitor_of(request: Request) -> Visitor | None:
    return getattr(request.state, "visitor", None)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page drawn from ``template`` with the console's common context and headers (no I/O:
    it may be called on the event loop)."""
    visitor = visitor_of(request)
    user = visitor.user if visitor else None
    message = getattr(request.state, "flash", None)  # taken by require() for a page
    page = env.get_template(template).render(
        request=request,
        path=request.url.path,
        user=user,
        csrf_token=visitor.session.csrf if visitor else "",
        nav=[item for item in NAV if user is not None and user.allows(item.role)],
        flash=message,
        **(context or {}),
    )
    return HTMLResponse(page, status_code=status_code, headers={**HEADERS, **(headers or {})})


def error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    """The page for a refusal or an error: its title and one line saying what to do; never a
    traceback."""
    try:
        return render(request, "error.html", {"title": title, "message": message}, status_code=status_code)
    except Exception:  # the error page itself cannot be drawn: plain, still no traceback
        from html import escape

        body = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(message)}</p>"
        return HTMLResponse(body, status_code=status_code, headers=HEADERS)
