"""Addresses of the operator console's pages, for what points people at them: the error report, the
digest and the alarm e-mails link each order, problem and view to the page that shows or fixes it.

The console's paths are named here once (``DASHBOARD``, ``ORDER``, ``HOLDING``, ``MAPPINGS``,
``WRITEBACKS``, ``RETURN``, ``RETURNS``); the base is ``Settings.console_url()`` — ``CONSOLE_BASE_URL``, or the address
``bobbin web`` listens on by default. Every value in an address is percent-encoded, so a site or a
problem code cannot change where a link goes; HTML escaping is the template's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from core.settings import Settings, get_settings

DASHBOARD = "/"
ORDER = "/orders/{ref}"  # a Bobbin order id, or SITE:PARTNER_ORDER_ID
HOLDING = "/holding"  # ?site=NAME&view=VIEW&code=CODE (web/console/holding.py, Query.params)
MAPPINGS = "/mappings"  # ?site=NAME
WRITEBACKS = "/writebacks"  # ?site=NAME&state=STATE
RETURN = "/returns/{ref}"  # a Bobbin return id, an RMA number, or SITE:LOOP_RETURN_ID
RETURNS = "/returns"  # ?site=NAME&state=STATE (web/console/returns.py)

# Problems fixed by mapping the partner's value to an ERP code: the site's Mappings page does it (the
# `bobbin map …` command of their hint). Every other problem is dealt with on its order's page.
MAPPED_ON_MAPPINGS: frozenset[str] = frozenset(
    {"terms_unmapped", "ship_via_unmapped", "warehouse_unmapped", "sales_rep_unknown"}
)
# Problems whose fix the order's page makes in place (the rest are fixed on the partner or in the ERP
# and checked again from there).
FIXED_ON_ORDER: frozenset[str] = frozenset(
    {"customer_unknown", "duplicate_po", "price_type_missing", "contract_violation"}
)


def view_for(states: Iterable[str]) -> str:
    """The holding area's view that shows orders in these states: the one view of their common
    state (``invalid`` for invalid orders), else ``all``."""
    from services.status import VIEWS  # here: services.status reads services.reconcile, which links here

    wanted = set(states)
    return next((view for view, shown in VIEWS.items() if view != "all" and set(shown) == wanted), "all")


@dataclass(frozen=True)
class Link:
    """A console address and the words a person clicks on."""

    label: str
    url: str


@dataclass(frozen=True)
class Console:
    """The console's pages under one base address (no trailing slash)."""

    base: str

    def _url(self, path: str, params: dict[str, str] | None = None) -> str:
        query = {k: v for k, v in (params or {}).items() if v}
        return self.base + path + (f"?{urlencode(query)}" if query else "")

    def dashboard(self, site_id: int | None = None) -> str:
        """The dashboard; with ``site_id``, at that site's section (its alarms and counts)."""
        return self._url(DASHBOARD) + (f"#site-{site_id}" if site_id is not None else "")

    def order(self, ref: int | str, *, problem_id: int | None = None) -> str:
        """One order's page; with ``problem_id``, at that problem (its hint and its fix)."""
        url = self._url(ORDER.format(ref=quote(str(ref), safe=":")))
        return url + (f"#problem-{problem_id}" if problem_id is not None else "")

    def holding(self, site: str, view: str = "all", code: str | None = None) -> str:
        """A view of the holding area for one site, optionally only orders with an open ``code``."""
        return self._url(HOLDING, {"site": site, "view": "" if view == "all" else view, "code": code or ""})

    def mappings(self, site: str) -> str:
        return self._url(MAPPINGS, {"site": site})

    def writebacks(self, site: str, state: str | None = None) -> str:
        return self._url(WRITEBACKS, {"site": site, "state": state or ""})

    def return_page(self, ref: int | str) -> str:
        """One return's page."""
        return self._url(RETURN.format(ref=quote(str(ref), safe=":")))

    def returns(self, site: str, state: str | None = None) -> str:
        """A site's returns, optionally of one state."""
        return self._url(RETURNS, {"site": site, "state": state or ""})

    def fix(self, code: str, *, site: str, order_id: int, problem_id: int | None = None) -> Link:
        """Where a person acts on one problem of an order: the site's mappings for an unmapped value,
        else the order's page at that problem."""
        if code in MAPPED_ON_MAPPINGS:
            return Link("Map it in the console", self.mappings(site))
        label = "Fix it in the console" if code in FIXED_ON_ORDER else "Open it in the console"
        return Link(label, self.order(order_id, problem_id=problem_id))


def console(settings: Settings | None = None) -> Console:
    """The console as the settings place it (``Settings.console_url``)."""
    return Console((settings or get_settings()).console_url())
