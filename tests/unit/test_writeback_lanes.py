"""How many writebacks of one site a partner takes at once (``StatusWriteback.lanes``)."""

from __future__ import annotations

import pytest

from connectors.brandboom import BrandboomSettings
from connectors.brandboom import writeback_lanes as brandboom_lanes
from connectors.joor import WRITEBACK_LANES, JoorSettings
from connectors.joor import writeback_lanes as joor_lanes
from connectors.joor.contract import WRITE_CREDITS
from connectors.settings import SettingsError, validate_settings


def test_brandboom_takes_its_setting_with_a_safe_default() -> None:
    assert brandboom_lanes(BrandboomSettings())[0] == 4
    assert brandboom_lanes(BrandboomSettings(writeback_concurrency=9))[0] == 9
    with pytest.raises(SettingsError, match="writeback_concurrency"):
        validate_settings(BrandboomSettings, {"writeback_concurrency": 0}, "Brandboom")
    with pytest.raises(SettingsError, match="writeback_concurrency"):
        validate_settings(BrandboomSettings, {"writeback_concurrency": 500}, "Brandboom")


@pytest.mark.parametrize(
    ("credits", "lanes", "each"),
    [(300, WRITEBACK_LANES, 75), (1000, WRITEBACK_LANES, 250), (12, 2, 6), (5, 1, 5), (19, 3, 6)],
)
def test_joor_lanes_share_the_credit_budget(credits: int, lanes: int, each: int) -> None:
    n, settings = joor_lanes(JoorSettings(credits=credits))
    assert (n, settings.credits) == (lanes, each)
    assert n * settings.credits <= credits  # together never more than the account's window
    assert settings.credits >= WRITE_CREDITS  # each lane can pay a write (a customer code PUT)
