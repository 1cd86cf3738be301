"""Brandboom API v2 connector: contract, client, mapper and the order source the pipeline uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.brandboom import contract
from connectors.brandboom.client import DEFAULT_ORDER_PAGE, BrandboomClient
from connectors.brandboom.source import BrandboomOrderSource
from connectors.errors import AuthError

__all__ = ["BrandboomClient", "BrandboomOrderSource", "make_source"]


def make_source(base_url: str, credentials: Mapping[str, Any], settings: Mapping[str, Any]) -> BrandboomOrderSource:
    """The order source of one Brandboom site.

    ``credentials``: ``public_key``, ``secret_key``. ``settings``: ``import_statuses`` (list,
    default ``["export"]``), ``page_size`` (default 100). Missing keys are a person's job to fix,
    hence AuthError rather than KeyError.
    """
    public_key, secret_key = credentials.get("public_key"), credentials.get("secret_key")
    if not public_key or not secret_key:
        raise AuthError(
            "Brandboom site has no public_key / secret_key: check the site's credentials", partner=contract.PARTNER
        )
    client = BrandboomClient(base_url, str(public_key), str(secret_key))
    statuses = settings.get("import_statuses") or [contract.ORDER_STATUS_EXPORT]
    page_size = int(settings.get("page_size") or DEFAULT_ORDER_PAGE)
    return BrandboomOrderSource(client, statuses=tuple(statuses), page_size=page_size)
