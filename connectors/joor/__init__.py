"""JOOR API v2 connector: contract, client, mapper and the order source the pipeline uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import AuthError
from connectors.joor import contract
from connectors.joor.client import InventoryItem, JoorClient
from connectors.joor.source import DEFAULT_ORDER_TYPES, JoorOrderSource

__all__ = ["InventoryItem", "JoorClient", "JoorOrderSource", "make_source"]


def make_source(base_url: str, credentials: Mapping[str, Any], settings: Mapping[str, Any]) -> JoorOrderSource:
    """The order source of one JOOR site.

    ``credentials``: ``api_token`` (the v2 token JOOR's integration manager issues, as given: the
    client base64-encodes it). ``settings``: ``order_types`` (list of JOOR order_type codes,
    default ``[6]`` approved; ``[6, 7]`` also imports shipped orders), ``page_size`` (default 50,
    JOOR's own), ``credits`` / ``credit_window_seconds`` (the account's budget, default JOOR's
    300 per 300 s). A missing token is a person's job to fix, hence AuthError rather than KeyError.
    """
    api_token = credentials.get("api_token")
    if not api_token:
        raise AuthError("JOOR site has no api_token: check the site's API token", partner=contract.PARTNER)
    order_types = [int(t) for t in settings.get("order_types") or DEFAULT_ORDER_TYPES]
    page_size = int(settings.get("page_size") or contract.DEFAULT_COUNT)
    client = JoorClient(
        base_url,
        str(api_token),
        credits=int(settings.get("credits") or contract.CREDITS_PER_WINDOW),
        window_seconds=float(settings.get("credit_window_seconds") or contract.WINDOW_SECONDS),
    )
    try:
        return JoorOrderSource(client, order_types=order_types, page_size=page_size)
    except ValueError:
        client.close()
        raise
