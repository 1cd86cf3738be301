"""Typed SQLAlchemy 2.0 models; one module per concern. Importing this package registers them all."""

from models.base import Base
from models.catalog_push import CatalogPushState, CatalogRemoval
from models.console import ConsoleAction, ConsoleUser
from models.erp import (
    Customer,
    CustomerAddress,
    Division,
    Inventory,
    Linesheet,
    LinesheetStyle,
    PriceType,
    SalesOrder,
    SalesOrderLine,
    SalesRep,
    ShipVia,
    Sku,
    Style,
    StyleColor,
    StyleColorPrice,
    StyleImage,
    StylePrice,
    Terms,
    Warehouse,
)
from models.events import InboundEvent
from models.handoff import ErpHandoff, Shipment
from models.inventory import (
    InventoryPushChange,
    InventoryPushHeld,
    InventoryPushMark,
    InventoryPushRejection,
    InventoryPushState,
)
from models.orders import ErrorReport, InboundOrder, OrderError, ReportedError
from models.returns import ArAdjustment, CreditMemo, InboundReturn, ReturnError, Rma, RmaLine, RmaReceipt
from models.runs import OutboxEntry, SyncRun, WritebackAttempt
from models.sites import Mapping, Site

__all__ = [
    "ArAdjustment",
    "Base",
    "CatalogPushState",
    "CatalogRemoval",
    "ConsoleAction",
    "ConsoleUser",
    "CreditMemo",
    "Customer",
    "CustomerAddress",
    "Division",
    "ErpHandoff",
    "ErrorReport",
    "InboundEvent",
    "InboundOrder",
    "InboundReturn",
    "Inventory",
    "InventoryPushChange",
    "InventoryPushHeld",
    "InventoryPushMark",
    "InventoryPushRejection",
    "InventoryPushState",
    "Linesheet",
    "LinesheetStyle",
    "Mapping",
    "OrderError",
    "OutboxEntry",
    "PriceType",
    "ReportedError",
    "ReturnError",
    "Rma",
    "RmaLine",
    "RmaReceipt",
    "SalesOrder",
    "SalesOrderLine",
    "SalesRep",
    "ShipVia",
    "Shipment",
    "Site",
    "Sku",
    "Style",
    "StyleColor",
    "StyleColorPrice",
    "StyleImage",
    "StylePrice",
    "SyncRun",
    "Terms",
    "Warehouse",
    "WritebackAttempt",
]
