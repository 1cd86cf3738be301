"""Beat's schedule for a site that sends returns (Loop): its returns poll on the import clock, and
none of the order work (import, ERP export) a site without orders cannot do. Which a site sends is
read from its partner's spec (schedules.active_sites)."""

from __future__ import annotations

from core.settings import Settings
from schedules import SiteEntry, _pulls, build_schedule


def test_a_returns_site_polls_its_returns_and_does_no_order_work() -> None:
    # Given an order site and a returns site
    sites = [SiteEntry(1, "bb-us", None), SiteEntry(3, "loop-us", 5, orders=False, returns=True)]

    # When the beat schedule is built
    schedule = build_schedule(sites, Settings(IMPORT_INTERVAL_MINUTES="15"))  # type: ignore[call-arg]

    # Then the returns site polls on its own clock, with its id, and has no order import or export
    poll = schedule["import-returns:loop-us"]
    assert (poll["task"], poll["args"], poll["options"]) == ("tasks.returns.import_returns", (3,), {"expires": 300})
    assert poll["schedule"].minute == set(range(0, 60, 5))
    assert "import-orders:loop-us" not in schedule and "erp-export:loop-us" not in schedule
    assert "import-orders:bb-us" in schedule and "import-returns:bb-us" not in schedule


def test_what_a_site_sends_is_read_from_its_partner() -> None:
    assert _pulls("brandboom") == (True, False)
    assert _pulls("loop") == (False, True)
    assert _pulls("gone-partner") == (True, False)  # its import then says the partner is unknown
