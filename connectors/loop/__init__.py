"""Loop Returns connector: contract, client, mapper, the returns source and writer, the webhook
source, and the spec that tells the rest of Bobbin what a Loop site can do (send returns, take
actions on them through the outbox, push return webhooks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import AuthError
from connectors.loop import contract
from connectors.loop.client import LoopActionRefused, LoopClient, ReturnsPage
from connectors.loop.events import EVENTS
from connectors.loop.mapper import LoopRefund, LoopReturn, LoopReturnLine, to_loop_return
from connectors.loop.settings import LoopSettings
from connectors.loop.source import LoopReturns, open_returns
from connectors.registry import PartnerSpec, Sandbox, StatusWriteback
from connectors.returns import RETURN_ACTIONS, ReturnsPull

__all__ = [
    "SPEC",
    "LoopActionRefused",
    "LoopClient",
    "LoopRefund",
    "LoopReturn",
    "LoopReturnLine",
    "LoopReturns",
    "LoopSettings",
    "ReturnsPage",
    "contract",
    "to_loop_return",
]


def make_client(base_url: str, credentials: Mapping[str, Any], settings: LoopSettings | None = None) -> LoopClient:
    """The client of one Loop shop: ``api_key`` is the key made in Loop's Developer Tools with the
    Returns scope (the client says so when it is missing)."""
    api_key = credentials.get("api_key")
    if not api_key:
        raise AuthError(
            f"Loop site has no api_key: make one in {contract.KEY_PLACE} with the {contract.SCOPE_RETURNS} scope",
            partner=contract.PARTNER,
        )
    settings = settings or LoopSettings()
    return LoopClient(base_url, str(api_key), requests_per_minute=settings.requests_per_minute)


SPEC = PartnerSpec(
    kind="loop",
    label="Loop Returns",
    settings=LoopSettings,
    credential_fields=("api_key", "webhook_secret"),
    client=make_client,
    returns=ReturnsPull(open=open_returns, to_partner_return=to_loop_return),
    # Process, flag and notes about one return go out through the outbox, one at a time (Loop's
    # 300 requests a minute are shared with the poll; an action is rare).
    writeback=StatusWriteback(open=open_returns, statuses=RETURN_ACTIONS),
    events=EVENTS,
    sandbox=Sandbox(module="sandbox.loop.demo", api_path=contract.BASE_PATH, port_setting="loop_sandbox_port"),
    doc="Loop Returns API v1 (an API key with the Returns scope, and the webhook secret)",
)
