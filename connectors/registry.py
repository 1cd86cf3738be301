"""Which connector serves which site kind: the one place the pipeline learns about partners.

Adding a partner means adding a package under ``connectors/`` and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from connectors.base import OrderSource, PartnerOrder
from connectors.drift import PayloadContract


@dataclass(frozen=True)
class ConnectorSpec:
    kind: str
    label: str
    credential_fields: tuple[str, ...]  # what `bobbin sites add` asks for (all secret)
    to_partner_order: Callable[[Mapping[str, Any]], PartnerOrder]
    make_source: Callable[[str, dict[str, Any], dict[str, Any]], OrderSource]
    order_fields: Mapping[str, str]  # connectors.base.ORDER_FIELDS -> the partner's field name
    writeback_statuses: tuple[str, ...]  # the source's: what can be written back
    exported_when: str  # the source's: "imported" | "staged"
    payload: PayloadContract  # what an order payload should hold (the drift count)


def _brandboom() -> ConnectorSpec:
    from connectors.brandboom import make_source
    from connectors.brandboom.contract import ORDER_FIELDS, PAYLOAD
    from connectors.brandboom.mapper import to_partner_order
    from connectors.brandboom.source import BrandboomOrderSource as Source

    return ConnectorSpec(
        "brandboom",
        "Brandboom",
        ("public_key", "secret_key"),
        to_partner_order,
        make_source,
        ORDER_FIELDS,
        Source.writeback_statuses,
        Source.exported_when,
        PAYLOAD,
    )


def _joor() -> ConnectorSpec:
    from connectors.joor import make_source
    from connectors.joor.contract import ORDER_FIELDS, PAYLOAD
    from connectors.joor.mapper import to_partner_order
    from connectors.joor.source import JoorOrderSource as Source

    return ConnectorSpec(
        "joor",
        "JOOR",
        ("api_token",),
        to_partner_order,
        make_source,
        ORDER_FIELDS,
        Source.writeback_statuses,
        Source.exported_when,
        PAYLOAD,
    )


_FACTORIES: dict[str, Callable[[], ConnectorSpec]] = {"brandboom": _brandboom, "joor": _joor}


class UnknownPartner(ValueError):
    pass


@cache
def connector(kind: str) -> ConnectorSpec:
    try:
        return _FACTORIES[kind]()
    except KeyError:
        raise UnknownPartner(
            f"no connector for partner kind {kind!r}; available: {', '.join(sorted(_FACTORIES))}"
        ) from None


def kinds() -> list[str]:
    return sorted(_FACTORIES)
