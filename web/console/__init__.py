"""The operator console: server-drawn pages (Jinja2, ``web/templates``) with a little htmx.

Its parts, for whoever adds a page:

- ``auth``: signing in and out, and ``require(role)`` — wrap every endpoint in it (viewer <
  operator < admin); it checks the session, the CSRF token of every POST, and the role.
- ``render``: ``render(request, template, context)`` draws a page with the common context (user,
  ``csrf_token`` for forms, navigation, flash message) and the security headers;
  ``error_page(request, status, title, message)`` for refusals. ``NAV`` lists the sections.
- ``sessions``: sessions and CSRF tokens in Redis, ``flash(session, message)`` for the next page,
  the sign-in rate limit.
- ``dashboard``: ``/`` and the work started from it; ``holding``: ``/holding``, the orders of a
  view with search, filters and actions on a selection; ``orders``: ``/orders/{id}``, one order
  and the fixes made on it; ``changes``: what those pages change, through the services, and the
  sentence that says what it did; ``writebacks``: ``/writebacks``, the outbox per state and dead
  rows sent again; ``mappings``: ``/mappings``, a site's mappings and the values orders
  wait for; ``returns``: ``/returns``, Loop returns per state and one return with its RMA,
  receipts, credit memo and AR debits, where goods are received and a waiting credit confirmed;
  ``sites``: ``/sites`` (admins), each site's settings, pausing and credentials (write-only).

Every change a page makes goes through a service function and is recorded with
``services.users.record_action(session, visitor(request).user, action, order_id=…, site_id=…)``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.console import auth, dashboard, holding, mappings, orders, returns, sites, writebacks

routes: list[BaseRoute] = [
    Route("/login", auth.login_page, methods=["GET"]),
    Route("/login", auth.login, methods=["POST"]),
    Route("/logout", auth.logout, methods=["POST"]),
    *dashboard.routes,
    *holding.routes,
    *orders.routes,
    *mappings.routes,
    *writebacks.routes,
    *returns.routes,
    *sites.routes,  # after the dashboard's /sites/{id}/import and /sites/{id}/push-inventory
]
