"""Catalog push: send a site's partner the ERP's styles (with colours, SKUs and prices), images and
linesheets, as a diff, in bounded batches — the work behind ``tasks.catalog.push_catalog`` and
``bobbin catalog push``, callable without Celery. The partner's side is its ``CatalogPusher``
(``connectors.catalog``); nothing here names a partner.

What is read
------------
The styles of the site's division (or of no division), one query per table: styles, colours,
SKUs, style prices and colour prices (each with its price type's currency), images, linesheets
and their styles. A colour's prices are its own (``style_color_price``) in the price types where
it has them, else the style's (``style_price``). An image file's content is hashed (sha256), so a
changed file is sent again; a file that is missing is a problem row, not a failed push.

Diff, resume, rejections, removal
---------------------------------
``catalog_push_state`` holds, per site and item, the content hash of what the partner last
accepted, the partner's id for it and the outcome of its last answer. An incremental push sends an
item when it was never accepted, was rejected, or its hash differs now; ``full=True`` sends every
item (except those an interrupted full push got accepted since the last complete one). Each
batch's answers are committed right after the partner gave them, so a push that stops half-way
(partner down, worker killed) resumes: the next push finds the accepted items equal and sends the
rest. An item the partner refused, or that a check found unsendable (no SKUs, no price, the
partner's own checks), is a ``rejected`` row with the message: ``bobbin status``, the dashboard
and the error e-mail show it, and the next push sends it again.

Before a style the partner has no id for is created, the partner's products are matched to it
(never duplicated): a ``style`` mapping a person made (``bobbin map style SITE PRODUCT STYLE``)
first, then the product carrying the style number, then the one sharing a UPC. A match that is not
unique, or a product already matched to another style, is a problem row naming the candidates.

A style made inactive in the ERP that the partner holds is removed or deactivated there when the
site's ``catalog_inactive`` says so (default ``keep``); each removal is a ``catalog_removal`` row
with what the style was. Images and linesheets go only to partners that take them, and only for
styles the partner holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import structlog
from sqlalchemy import and_, case, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from connectors.catalog import (
    ACCEPTED,
    AWAITING,
    REJECTED,
    REMOVED,
    CatalogColor,
    CatalogPush,
    CatalogPusher,
    CatalogSku,
    CatalogStyle,
    Image,
    ItemResult,
    Linesheet,
    PartnerProduct,
    Price,
)
from connectors.errors import PartnerRejected
from core.db import new_session, session_scope
from core.locks import advisory_lock, site_lock_name
from models import CatalogPushState, CatalogRemoval, SyncRun
from models.sites import Mapping as SiteMapping
from services.context import SiteContext
from services.runs import recorded_run
from services.sites import open_site

log = structlog.get_logger()

TASK = "push_catalog"
CATALOG_KINDS = ("style", "image", "linesheet")
UNCHANGED, HELD_BACK, UNANSWERED = "unchanged", "held back", "unanswered"
TO_SEND, TO_REMOVE = "to send", "to remove"
# The outcomes a summary counts per kind, in the order the CLI's table shows them.
OUTCOMES = (ACCEPTED, REJECTED, AWAITING, REMOVED, UNCHANGED)
LISTED_MAX = 200  # items a result lists by name (rejected, removed, matched); the counts are whole

Progress = Callable[[str, int, int], None]  # (kind, items of that kind settled so far, to send)
T = TypeVar("T")

# What a person does about a refused item, per kind (SITE is the site's name).
RESOLUTIONS = {
    "style": (
        "Correct the style in the ERP as the message says and load it again (`bobbin erp load styles FILE`, "
        "`bobbin erp load prices FILE`), or match it to the partner's product (`bobbin map style SITE PRODUCT "
        "STYLE`); the next push (`bobbin catalog push SITE`) sends it again."
    ),
    "image": (
        "Fix the image (its file, size or format) and load the images manifest again (`bobbin erp load images "
        "FILE`); the next push (`bobbin catalog push SITE`) sends it again."
    ),
    "linesheet": (
        "Correct the linesheet in the ERP and load it again (`bobbin erp load linesheets FILE`); the next push "
        "(`bobbin catalog push SITE`) sends it again."
    ),
    "customer": (
        "Correct the customer in the ERP and load it again (`bobbin erp load customers FILE`); the next push "
        "(`bobbin customers push SITE`) sends it again."
    ),
    "listing": (
        "Correct the eBay listing record as the message says (`bobbin ebay set SITE SKU ...`, or `bobbin erp load "
        "ebay-listings FILE`); it stays flagged, and the next push (`bobbin ebay push SITE`) sends it again."
    ),
}


def resolution(kind: str, site_name: str) -> str:
    return RESOLUTIONS.get(kind, RESOLUTIONS["style"]).replace("SITE", site_name)


# --- content hashes ------------------------------------------------------------------------------


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _as_json(value: Any) -> Any:
    """What JSON cannot write itself: a dataclass as the dict of its fields (nested ones the same
    way as the encoder reaches them), a Decimal and a date as text; tuples are lists to JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is None:
        raise TypeError(f"{kind.__name__} has no place in a content hash")
    return {name: getattr(value, name) for name in names}


def content_hash(item: Any, *, leave_out: Iterable[str] = ()) -> str:
    """sha256 of the item's stable JSON (keys sorted, Decimals and dates as text), without the
    fields in ``leave_out``: equal content, equal hash, whatever the order it was read in. The
    encoder walks the item itself (no copy of it first): a catalog of 5,000 styles is hashed in
    a fraction of the time ``dataclasses.asdict`` took, with the same JSON."""
    data = _as_json(item)
    for name in leave_out:
        data.pop(name, None)
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_as_json)
    return hashlib.sha256(raw.encode()).hexdigest()


def style_hash(style: CatalogStyle) -> str:
    return content_hash(style, leave_out=("partner_id",))  # the partner's id is its answer, not our content


def image_hash(image: Image) -> str:
    return content_hash(image, leave_out=("folder",))  # the file's bytes count (checksum), not where it sits


def linesheet_hash(sheet: Linesheet) -> str:
    return content_hash(sheet)


# --- reading the ERP -----------------------------------------------------------------------------

# Each query below keeps the styles in the site's division (or all styles when it has none); the
# clause is written out in each so the SQL is literal text.
_STYLES_SQL = """
SELECT s.number, s.description, s.season, s.category, s.division_code, s.active
FROM style s
WHERE (CAST(:division AS text) IS NULL OR s.division_code IS NULL OR s.division_code = :division)
ORDER BY s.number
"""
_COLORS_SQL = """
SELECT c.style_number, c.color_code, c.color_name
FROM style_color c JOIN style s ON s.number = c.style_number
WHERE (CAST(:division AS text) IS NULL OR s.division_code IS NULL OR s.division_code = :division)
ORDER BY c.style_number, c.id
"""
_SKUS_SQL = """
SELECT k.style_number, k.color_code, k.sku, k.size, k.size_index, k.upc
FROM sku k JOIN style s ON s.number = k.style_number
WHERE (CAST(:division AS text) IS NULL OR s.division_code IS NULL OR s.division_code = :division)
ORDER BY k.style_number, k.color_code, k.size_index, k.sku
"""
_STYLE_PRICES_SQL = """
SELECT p.style_number, p.price_type_code, t.currency, p.price, p.retail
FROM style_price p JOIN price_type t ON t.code = p.price_type_code JOIN style s ON s.number = p.style_number
WHERE (CAST(:division AS text) IS NULL OR s.division_code IS NULL OR s.division_code = :division)
ORDER BY p.style_number, p.price_type_code
"""
_COLOR_PRICES_SQL = """
SELECT p.style_number, p.color_code, p.price_type_code, t.currency, p.wholesale, p.retail
FROM style_color_price p JOIN price_type t ON t.code = p.price_type_code JOIN style s ON s.number = p.style_number
WHERE (CAST(:division AS text) IS NULL OR s.division_code IS NULL OR s.division_code = :division)
ORDER BY p.style_number, p.color_code, p.price_type_code
"""
_IMAGES_SQL = """
SELECT i.style_number, i.color_code, i.kind, i.position, i.source, i.folder, i.alt_text
FROM style_image i JOIN style s ON s.number = i.style_number
WHERE (CAST(:division AS text) IS NULL OR s.division_code IS NULL OR s.division_code = :division)
  AND s.active
ORDER BY i.style_number, i.color_code NULLS FIRST, i.kind, i.position
"""
_LINESHEETS_SQL = "SELECT name, season, delivery_start, delivery_end FROM linesheet ORDER BY name"
_LINESHEET_STYLES_SQL = "SELECT linesheet_name, style_number FROM linesheet_style ORDER BY linesheet_name, position, id"


@dataclass
class Catalog:
    """The ERP's catalog as a push reads it."""

    styles: list[CatalogStyle]
    images: list[Image] = field(default_factory=list)
    image_problems: dict[str, str] = field(default_factory=dict)  # image key -> why it cannot be sent
    linesheets: list[Linesheet] = field(default_factory=list)


def _rows(session: Session, sql: str, division: str | None = None) -> Sequence[Any]:
    return session.execute(text(sql), {"division": division}).all()


def read_catalog(session: Session, division: str | None, *, images: bool = True, linesheets: bool = True) -> Catalog:
    """The styles of ``division`` (or of no division; every style when None), active or not, with
    their colours, SKUs and prices; their images (files hashed) and the linesheets when asked.
    One query per table, whatever the catalog's size."""
    colors: dict[str, list[tuple[str, str]]] = {}
    for style, code, name in _rows(session, _COLORS_SQL, division):
        colors.setdefault(style, []).append((code, name))
    skus: dict[tuple[str, str], list[CatalogSku]] = {}
    sku_colors: dict[str, dict[str, None]] = {}  # style -> its SKUs' colour codes, in order
    for style, color, sku, size, size_index, upc in _rows(session, _SKUS_SQL, division):
        skus.setdefault((style, color), []).append(CatalogSku(sku, size, size_index, upc))
        sku_colors.setdefault(style, {})[color] = None
    style_prices: dict[str, dict[str, Price]] = {}
    for style, code, currency, wholesale, retail in _rows(session, _STYLE_PRICES_SQL, division):
        style_prices.setdefault(style, {})[code] = Price(code, currency, wholesale, retail)
    color_prices: dict[tuple[str, str], dict[str, Price]] = {}
    for style, color, code, currency, wholesale, retail in _rows(session, _COLOR_PRICES_SQL, division):
        color_prices.setdefault((style, color), {})[code] = Price(code, currency, wholesale, retail)

    styles = []
    for number, description, season, category, division_code, active in _rows(session, _STYLES_SQL, division):
        own = style_prices.get(number, {})
        named = colors.get(number, [])
        # A SKU whose colour the ERP did not list is still sold: its code stands for its name.
        listed = {code for code, _ in named}
        extra = [c for c in sku_colors.get(number, {}) if c not in listed]
        built = []
        for code, name in [*named, *((c, c) for c in extra)]:
            mine = color_prices.get((number, code), {})
            prices = {**own, **mine}
            built.append(
                CatalogColor(
                    code=code,
                    name=name,
                    skus=tuple(skus.get((number, code), ())),
                    prices=tuple(prices[k] for k in sorted(prices)),
                    own_prices=any(own.get(k) != p for k, p in mine.items()),
                )
            )
        styles.append(
            CatalogStyle(
                number=number,
                description=description,
                season=season,
                category=category,
                division=division_code,
                active=bool(active),
                prices=tuple(own[k] for k in sorted(own)),
                colors=tuple(built),
            )
        )
    catalog = Catalog(styles)
    if images:
        catalog.images, catalog.image_problems = _read_images(session, division)
    if linesheets:
        catalog.linesheets = _read_linesheets(session)
    return catalog


def _read_images(session: Session, division: str | None) -> tuple[list[Image], dict[str, str]]:
    found: list[Image] = []
    problems: dict[str, str] = {}
    for style, color, kind, position, source, folder, alt in _rows(session, _IMAGES_SQL, division):
        image = Image(style, color, kind, position, source, folder or "", alt)
        if not image.is_url:
            checksum, problem = file_checksum(image)
            if problem:
                problems[image.key()] = problem
            image = dataclasses.replace(image, checksum=checksum)
        found.append(image)
    return found, problems


def file_checksum(image: Image) -> tuple[str, str | None]:
    """sha256 of an image file's bytes, or a problem saying what to do when it cannot be read."""
    path = image.path
    assert path is not None
    where = f"image {image.source} of style {image.style_number}"
    if not path.is_file():
        return "", (
            f"{where} is missing from {image.folder}: put the file back, or load the images manifest again "
            "(bobbin erp load images FILE --images-dir DIR)."
        )
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        return "", f"{where} cannot be read ({exc.strerror or exc}): check the file and its permissions."
    return digest.hexdigest(), None


def _read_linesheets(session: Session) -> list[Linesheet]:
    on: dict[str, list[str]] = {}
    for name, style in _rows(session, _LINESHEET_STYLES_SQL):
        on.setdefault(name, []).append(style)
    return [
        Linesheet(name, season, start, end, tuple(on.get(name, ())))
        for name, season, start, end in _rows(session, _LINESHEETS_SQL)
    ]


def style_problems(style: CatalogStyle) -> list[str]:
    """What no partner can take about a style, each a sentence naming it and what to do."""
    problems = []
    if not any(c.skus for c in style.colors):
        problems.append(
            f"Style {style.number} has no SKUs in the ERP: load its colours and sizes "
            "(bobbin erp load styles FILE), or make it inactive."
        )
    if not style.prices and not any(c.prices for c in style.colors):
        problems.append(
            f"Style {style.number} has no price in any price type: load its prices (bobbin erp load prices FILE)."
        )
    return problems


def snapshot(style: CatalogStyle) -> dict[str, Any]:
    """What a removed style was, as its removal record keeps it."""
    return {
        "number": style.number,
        "description": style.description,
        "season": style.season,
        "colors": [
            {"code": c.code, "name": c.name, "skus": [{"sku": k.sku, "size": k.size, "upc": k.upc} for k in c.skus]}
            for c in style.colors
        ],
    }


# --- the recorded state --------------------------------------------------------------------------


class State(NamedTuple):
    """An item's row of ``catalog_push_state``."""

    key: str
    outcome: str | None
    accepted_hash: str | None
    sent_hash: str | None
    partner_id: str | None
    run_id: int | None
    label: str | None
    ticket: str | None

    @property
    def held(self) -> bool:
        """The partner holds a version of the item (it accepted one, and nothing removed it since)."""
        return self.accepted_hash is not None and self.outcome != REMOVED


def load_state(session: Session, site_id: int, kinds: Iterable[str]) -> dict[str, dict[str, State]]:
    """kind -> key -> the item's state row (one query)."""
    out: dict[str, dict[str, State]] = {k: {} for k in kinds}
    rows = session.execute(
        select(
            CatalogPushState.kind,
            CatalogPushState.key,
            CatalogPushState.outcome,
            CatalogPushState.accepted_hash,
            CatalogPushState.sent_hash,
            CatalogPushState.partner_id,
            CatalogPushState.run_id,
            CatalogPushState.label,
            CatalogPushState.ticket,
        ).where(CatalogPushState.site_id == site_id, CatalogPushState.kind.in_(list(out)))
    )
    for kind, key, outcome, accepted, sent, partner_id, run_id, label, ticket in rows:
        out[kind][key] = State(key, outcome, accepted, sent, partner_id, run_id, label, ticket)
    return out


def why_send(
    row: State | None, digest: str, *, full: bool = False, resumed: frozenset[int] = frozenset()
) -> str | None:
    """Why an item goes in this push (None: the partner already holds exactly this)."""
    if row is None or (row.outcome is None and row.accepted_hash is None):
        return "new"
    if row.outcome == REJECTED:
        return "refused before"
    if row.outcome == REMOVED:
        return "removed before"
    if row.outcome == AWAITING:
        return None if row.sent_hash == digest else "changed"
    if row.accepted_hash != digest:
        return "changed"
    if full and row.run_id not in resumed:
        return "full push"
    return None


def interrupted_full_runs(session: Session, task: str, site_id: int, current_run: int | None = None) -> frozenset[int]:
    """Full pushes of the site that failed since its last complete one: what they got accepted
    need not be sent again by the full push that picks up after them."""
    rows = session.execute(
        select(SyncRun.id, SyncRun.outcome, SyncRun.counts)
        .where(SyncRun.task == task, SyncRun.site_id == site_id)
        .order_by(SyncRun.id.desc())
        .limit(50)
    )
    failed: set[int] = set()
    for run_id, outcome, counts in rows:
        if run_id == current_run or not (counts or {}).get("full"):
            continue
        if outcome == "ok":
            break
        if outcome == "failed":
            failed.add(run_id)
    return frozenset(failed)


class Sent(NamedTuple):
    """What was sent (or checked) for one item, to record with the partner's answer."""

    digest: str | None
    label: str | None
    partner_id: str | None = None
    matched_by: str | None = None


_T = CatalogPushState.__table__


def _upsert(session: Session, values: list[dict[str, Any]]) -> None:
    """One statement compiled once and sent with every row's values, which SQLAlchemy batches into
    multi-row VALUES ("insertmanyvalues"): compiling a VALUES list of a whole batch, 15 parameters
    a row, cost more than the partner's answer to it."""
    if not values:
        return
    stmt = pg_insert(_T)  # the table, not the class: a Core executemany, not the ORM's bulk insert
    new = stmt.excluded
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[_T.c.site_id, _T.c.kind, _T.c.key],
            set_={
                "label": func.coalesce(new.label, _T.c.label),
                "outcome": new.outcome,
                "accepted_hash": func.coalesce(new.accepted_hash, _T.c.accepted_hash),
                "sent_hash": new.sent_hash,
                "partner_id": func.coalesce(new.partner_id, _T.c.partner_id),
                "matched_by": func.coalesce(new.matched_by, _T.c.matched_by),
                "message": new.message,
                "ticket": new.ticket,
                "run_id": new.run_id,
                "sent_at": func.coalesce(new.sent_at, _T.c.sent_at),
                "settled_at": new.settled_at,
                # A rejection is e-mailed once; one that follows another outcome is news again.
                "reported_at": case(
                    (and_(new.outcome == REJECTED, _T.c.outcome == REJECTED), _T.c.reported_at), else_=None
                ),
            },
        ).returning(_T.c.id),  # with RETURNING, SQLAlchemy batches an ON CONFLICT executemany (not without)
        values,
    )


def record_answers(
    session: Session,
    site_id: int,
    run_id: int | None,
    kind: str,
    answers: Iterable[ItemResult],
    sent: Mapping[str, Sent],
    *,
    sent_now: bool = True,
) -> list[ItemResult]:
    """Record the partner's answers for items of ``sent`` (answers for other keys are ignored and
    logged); returns the answers recorded, one per key (the last one when a key came twice)."""
    now = datetime.now(UTC)
    by_key: dict[str, ItemResult] = {}
    for answer in answers:
        if answer.key in sent:
            by_key[answer.key] = answer
        else:
            log.warning("catalog_answer_for_unknown_item", site=site_id, kind=kind, key=answer.key)
    values = []
    for key, a in by_key.items():
        item = sent[key]
        values.append(
            {
                "site_id": site_id,
                "kind": kind,
                "key": key,
                "label": item.label,
                "outcome": a.outcome,
                "accepted_hash": item.digest if a.outcome == ACCEPTED else None,
                "sent_hash": item.digest,
                "partner_id": a.partner_id or item.partner_id,
                "matched_by": item.matched_by,
                "message": a.message,
                "ticket": a.ticket if a.outcome == AWAITING else None,
                "run_id": run_id,
                "sent_at": now if sent_now else None,
                "settled_at": None if a.outcome == AWAITING else now,
                "reported_at": None,
            }
        )
    _upsert(session, values)
    return list(by_key.values())


def record_matches(session: Session, site_id: int, run_id: int | None, matches: Mapping[str, Match]) -> None:
    """Record the partner products matched to styles (before anything is sent to them), so a push
    that stops now still knows them next time. An existing row keeps its outcome."""
    if not matches:
        return
    stmt = pg_insert(CatalogPushState).values(
        [
            {
                "site_id": site_id,
                "kind": "style",
                "key": number,
                "partner_id": m.partner_id,
                "matched_by": m.by,
                "run_id": run_id,
            }
            for number, m in matches.items()
        ]
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[CatalogPushState.site_id, CatalogPushState.kind, CatalogPushState.key],
            set_={"partner_id": stmt.excluded.partner_id, "matched_by": stmt.excluded.matched_by},
        )
    )


def forget(session: Session, site_id: int, kind: str, keys: Iterable[str]) -> int:
    """Delete rows of items the partner never accepted and the ERP no longer offers (a refused
    style made inactive since): nothing is on the partner, and nothing is left to fix."""
    wanted = list(keys)
    if not wanted:
        return 0
    done = session.execute(
        delete(CatalogPushState).where(
            CatalogPushState.site_id == site_id,
            CatalogPushState.kind == kind,
            CatalogPushState.key.in_(wanted),
            CatalogPushState.accepted_hash.is_(None),
        )
    )
    return int(getattr(done, "rowcount", 0) or 0)


# --- what people read: problem rows --------------------------------------------------------------


def problems(
    session: Session,
    site_id: int,
    kinds: Iterable[str] | None = None,
    *,
    unreported: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The site's refused items (of ``kinds``; only those no e-mail reported when ``unreported``),
    oldest first: kind, key, label, the partner's message, since when, whether reported."""
    query = select(CatalogPushState).where(CatalogPushState.site_id == site_id, CatalogPushState.outcome == REJECTED)
    if kinds is not None:
        query = query.where(CatalogPushState.kind.in_(list(kinds)))
    if unreported:
        query = query.where(CatalogPushState.reported_at.is_(None))
    query = query.order_by(CatalogPushState.settled_at, CatalogPushState.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "key": r.key,
            "label": r.label,
            "message": r.message,
            "partner_id": r.partner_id,
            "since": r.settled_at or r.created_at,
            "reported": r.reported_at is not None,
        }
        for r in session.scalars(query)
    ]


def state_counts(session: Session, site_id: int) -> dict[str, dict[str, int]]:
    """kind -> outcome -> how many items of the site are in it (outcomes with none left out)."""
    out: dict[str, dict[str, int]] = {}
    for kind, outcome, n in session.execute(
        select(CatalogPushState.kind, CatalogPushState.outcome, func.count())
        .where(CatalogPushState.site_id == site_id, CatalogPushState.outcome.is_not(None))
        .group_by(CatalogPushState.kind, CatalogPushState.outcome)
    ):
        out.setdefault(kind, {})[str(outcome)] = int(n)
    return out


def mark_reported(session: Session, ids: Iterable[int]) -> None:
    wanted = list(ids)
    if wanted:
        session.execute(update(CatalogPushState).where(CatalogPushState.id.in_(wanted)).values(reported_at=func.now()))


def removals(session: Session, site_id: int, limit: int = 50) -> list[CatalogRemoval]:
    """The site's most recent removals (and refused removals), newest first."""
    return list(
        session.scalars(
            select(CatalogRemoval)
            .where(CatalogRemoval.site_id == site_id)
            .order_by(CatalogRemoval.id.desc())
            .limit(limit)
        )
    )


# --- matching partner products to styles ---------------------------------------------------------


class Match(NamedTuple):
    partner_id: str
    by: str  # mapping | style number | upc


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).lower()


def match_styles(
    styles: Sequence[CatalogStyle],
    products: Iterable[PartnerProduct],
    mapped: Mapping[str, Sequence[str]],
    taken: Mapping[str, str],
    *,
    partner: str = "the partner",
    site: str = "SITE",
) -> tuple[dict[str, Match], dict[str, str]]:
    """Partner products for styles the partner has no recorded id for: style number -> match, and
    style number -> the problem when no single product can be taken.

    ``mapped``: style number -> the partner values a person mapped to it (``style`` mappings);
    ``taken``: partner id -> the style it is recorded for already. Rules in order, each over all
    styles before the next, so a stronger claim takes a product first: a mapping (the product
    whose id or number is the mapped value; the value itself as the id when the partner lists no
    such product), then one product carrying the style number, then one product sharing a UPC.
    A product is matched to one style only."""
    listed = list(products)
    by_id = {p.partner_id: p for p in listed}
    by_number: dict[str, list[PartnerProduct]] = {}
    by_upc: dict[str, set[str]] = {}
    for p in listed:
        if p.style_number:
            by_number.setdefault(_norm(p.style_number), []).append(p)
        for upc in p.upcs:
            by_upc.setdefault(upc, set()).add(p.partner_id)
    claimed = dict(taken)
    matches: dict[str, Match] = {}
    problems: dict[str, str] = {}

    def take(style: CatalogStyle, partner_id: str, by: str) -> None:
        owner = claimed.get(partner_id)
        if owner is not None and owner != style.number:
            problems[style.number] = (
                f"Style {style.number} matches product {partner_id} on {partner} ({by}), which is already matched to "
                f"style {owner}: map the right product with bobbin map style {site} PRODUCT {style.number}."
            )
            return
        claimed[partner_id] = style.number
        matches[style.number] = Match(partner_id, by)

    def ambiguous(style: CatalogStyle, ids: Iterable[str], by: str) -> None:
        names = ", ".join(sorted(ids)[:10])
        problems[style.number] = (
            f"Style {style.number} matches several products on {partner} by {by} ({names}): map the right one "
            f"with bobbin map style {site} PRODUCT {style.number}; nothing is created until then."
        )

    todo = [s for s in styles]
    for style in todo:
        values = list(mapped.get(style.number, ()))
        if not values:
            continue
        if len(values) > 1:
            ambiguous(style, values, "style mapping")
            continue
        value = values[0]
        found = by_id.get(value) or next(iter(by_number.get(_norm(value), ())), None)
        take(style, found.partner_id if found else value, "mapping")
    todo = [s for s in todo if s.number not in matches and s.number not in problems]
    for style in todo:
        candidates = by_number.get(_norm(style.number), [])
        if len(candidates) == 1:
            take(style, candidates[0].partner_id, "style number")
        elif len(candidates) > 1:
            ambiguous(style, [p.partner_id for p in candidates], "style number")
    todo = [s for s in todo if s.number not in matches and s.number not in problems]
    for style in todo:
        ids: set[str] = set()
        for upc in style.upcs:
            ids |= by_upc.get(upc, set())
        if len(ids) == 1:
            take(style, ids.pop(), "upc")
        elif len(ids) > 1:
            ambiguous(style, ids, "UPC")
    return matches, problems


def style_mappings(session: Session, site_id: int) -> dict[str, list[str]]:
    """Style number -> the partner products a person mapped to it (``bobbin map style``)."""
    out: dict[str, list[str]] = {}
    for value, code in session.execute(
        select(SiteMapping.partner_value, SiteMapping.erp_code)
        .where(SiteMapping.site_id == site_id, SiteMapping.kind == "style")
        .order_by(SiteMapping.partner_value)
    ):
        out.setdefault(code, []).append(value)
    return out


# --- the result ----------------------------------------------------------------------------------


@dataclass
class PushResult:
    """What a catalog (or customer) push did or, dry, would do. ``counts``: kind -> outcome ->
    items; ``summary()`` is the task's answer and the run's counts."""

    site_id: int
    site: str = ""
    partner: str = ""
    what: str = "catalog"
    full: bool = False
    dry_run: bool = False
    run_id: int | None = None
    skipped: str | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    batches: int = 0
    sent: int = 0
    new_rejections: int = 0  # items refused by this push that were not refused before
    rejected: list[dict[str, Any]] = field(default_factory=list)  # kind, key, label, message
    removed: list[dict[str, Any]] = field(default_factory=list)  # style, partner id, action, outcome
    matched: list[dict[str, Any]] = field(default_factory=list)  # style, partner id, by
    items: list[dict[str, Any]] = field(default_factory=list)  # a dry run: what would go, and why
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, kind: str, outcome: str, n: int = 1) -> None:
        if n:
            per = self.counts.setdefault(kind, {})
            per[outcome] = per.get(outcome, 0) + n

    def total(self, outcome: str) -> int:
        return sum(per.get(outcome, 0) for per in self.counts.values())

    def summary(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for outcome in (*OUTCOMES, HELD_BACK, UNANSWERED, TO_SEND, TO_REMOVE):
            n = self.total(outcome)
            if n:
                data[outcome.replace(" ", "_")] = n
        return {k: v for k, v in data.items() if v not in (None, [], "", {}) or k in ("run_id", "counts")}


def _listed(items: list[dict[str, Any]], item: dict[str, Any]) -> None:
    if len(items) < LISTED_MAX:
        items.append(item)


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- sending in batches, recording each answer ---------------------------------------------------


@dataclass
class Batches:
    """Sends one kind of item in batches and records each batch's answers at once."""

    site_id: int
    run_id: int | None
    kind: str
    result: PushResult
    progress: Progress | None = None
    state: Mapping[str, State] = field(default_factory=dict)
    on_answer: Callable[[ItemResult, Sent], None] | None = None
    progress_kind: str = ""  # what the progress calls this kind of work ("removal"); the kind by default

    def run(
        self,
        items: Sequence[T],
        size: int,
        send: Callable[[Sequence[T]], list[ItemResult]],
        sent_of: Callable[[T], tuple[str, Sent]],
    ) -> None:
        total = len(items)
        what = self.progress_kind or self.kind
        if self.progress and total:
            self.progress(what, 0, total)
        done = 0
        for batch in batched(items, size):
            sent = dict(sent_of(item) for item in batch)
            self.result.batches += 1
            self.result.sent += len(batch)
            try:
                answers = send(batch)
            except PartnerRejected as exc:
                message = exc.value if isinstance(exc.value, str) and exc.value else str(exc)
                answers = [ItemResult(key, "rejected", message) for key in sent]
                log.warning(
                    "catalog_batch_rejected", site=self.site_id, kind=self.kind, items=len(batch), error=message
                )
            with session_scope() as s:
                recorded = record_answers(s, self.site_id, self.run_id, self.kind, answers, sent)
            self.tally(recorded, sent)
            self.result.add(self.kind, UNANSWERED, len(sent) - len(recorded))
            done += len(batch)
            if self.progress:
                self.progress(what, done, total)

    def tally(self, recorded: Iterable[ItemResult], sent: Mapping[str, Sent]) -> None:
        for a in recorded:
            self.result.add(self.kind, a.outcome)
            if a.outcome == REJECTED:
                before = self.state.get(a.key)
                if before is None or before.outcome != REJECTED:
                    self.result.new_rejections += 1
                _listed(
                    self.result.rejected,
                    {"kind": self.kind, "key": a.key, "label": sent[a.key].label, "message": a.message},
                )
            if self.on_answer:
                self.on_answer(a, sent[a.key])

    def refuse(self, refused: Mapping[str, tuple[Sent, str]]) -> None:
        """Record items kept back by a check as rejected (nothing was sent for them)."""
        if not refused:
            return
        answers = [ItemResult(key, "rejected", message) for key, (_, message) in refused.items()]
        sent = {key: item for key, (item, _) in refused.items()}
        with session_scope() as s:
            recorded = record_answers(s, self.site_id, self.run_id, self.kind, answers, sent, sent_now=False)
        self.tally(recorded, sent)


# --- the push ------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What a push will do, worked out before anything is sent."""

    ctx: SiteContext
    spec: CatalogPush
    catalog: Catalog
    state: dict[str, dict[str, State]]
    mapped: dict[str, list[str]]
    resumed: frozenset[int]
    full: bool
    send: list[tuple[CatalogStyle, str, str]] = field(default_factory=list)  # style, hash, why
    unchanged: int = 0
    remove: list[CatalogStyle] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)  # refused styles made inactive: nothing to keep
    gone: list[State] = field(default_factory=list)  # on the partner, no longer in the ERP


def _plan(session: Session, ctx: SiteContext, *, full: bool, run_id: int | None = None) -> _Plan:
    spec = ctx.spec.capability("catalog")
    catalog = read_catalog(session, ctx.site.division_code, images=spec.images, linesheets=spec.linesheets)
    state = load_state(session, ctx.id, CATALOG_KINDS)
    resumed = interrupted_full_runs(session, TASK, ctx.id, run_id) if full else frozenset()
    plan = _Plan(ctx, spec, catalog, state, style_mappings(session, ctx.id), resumed, full)
    styles = state["style"]
    for style in catalog.styles:
        row = styles.get(style.number)
        if not style.active:
            if row is not None and row.held:
                plan.remove.append(dataclasses.replace(style, partner_id=row.partner_id))
            elif row is not None and row.outcome == REJECTED:
                plan.forget.append(style.number)
            continue
        digest = style_hash(style)
        why = why_send(row, digest, full=full, resumed=resumed)
        if why is None:
            plan.unchanged += 1
        else:
            plan.send.append((dataclasses.replace(style, partner_id=row.partner_id if row else None), digest, why))
    known = {s.number for s in catalog.styles}
    plan.gone = [row for key, row in styles.items() if key not in known and row.held]
    return plan


def _removal_mode(plan: _Plan, result: PushResult) -> str | None:
    """The site's catalog_inactive when the partner can do it, else None (with a note)."""
    mode = plan.ctx.settings.catalog_inactive
    if not plan.remove:
        return None
    if mode == "keep":
        result.add("style", UNCHANGED, len(plan.remove))
        result.notes.append(
            f"{len(plan.remove)} style(s) inactive in the ERP stay on {plan.ctx.label} (catalog_inactive=keep)."
        )
        return None
    if mode not in plan.spec.removal:
        can = " or ".join(plan.spec.removal) or "neither remove nor deactivate"
        result.add("style", UNCHANGED, len(plan.remove))
        result.notes.append(
            f"{len(plan.remove)} style(s) inactive in the ERP stay on {plan.ctx.label}: it cannot {mode} a style "
            f"through its API (it can {can}); set catalog_inactive accordingly, or remove them there by hand."
        )
        return None
    return mode


def _gone_note(plan: _Plan, result: PushResult) -> None:
    if plan.gone:
        names = ", ".join(r.key for r in plan.gone[:20]) + (" …" if len(plan.gone) > 20 else "")
        result.notes.append(
            f"{len(plan.gone)} style(s) on {plan.ctx.label} are no longer in the ERP at all ({names}): Bobbin has "
            "nothing left to name them by; make a style inactive rather than deleting it, or remove these there by "
            "hand."
        )


def _needs_matching(plan: _Plan) -> list[CatalogStyle]:
    return [style for style, _, _ in plan.send if not style.partner_id]


def _match(plan: _Plan, pusher: CatalogPusher) -> tuple[dict[str, Match], dict[str, str]]:
    unknown = _needs_matching(plan)
    if not unknown:
        return {}, {}
    taken = {row.partner_id: key for key, row in plan.state["style"].items() if row.partner_id}
    return match_styles(unknown, pusher.existing(), plan.mapped, taken, partner=plan.ctx.label, site=plan.ctx.name)


def _checked(
    plan: _Plan, pusher: CatalogPusher, matches: Mapping[str, Match], match_problems: Mapping[str, str]
) -> tuple[list[tuple[CatalogStyle, str]], dict[str, tuple[Sent, str]]]:
    """The styles to send (with the partner ids matched), and those kept back with their problems."""
    ready: list[tuple[CatalogStyle, str]] = []
    refused: dict[str, tuple[Sent, str]] = {}
    for style, digest, _ in plan.send:
        found = matches.get(style.number)
        if found is not None:
            style = dataclasses.replace(style, partner_id=found.partner_id)
        problems = style_problems(style)
        if style.number in match_problems:
            problems.append(match_problems[style.number])
        if not problems:
            problems = list(pusher.check(style))
        if problems:
            refused[style.number] = (Sent(digest, style.description), " ".join(problems))
        else:
            ready.append((style, digest))
    return ready, refused


def _images(
    plan: _Plan, holds: Mapping[str, str | None]
) -> tuple[list[tuple[Image, str]], dict[str, tuple[Sent, str]], int]:
    """Images to send (of styles the partner holds, changed), those that cannot be sent, and how
    many wait for their style to reach the partner."""
    rows = plan.state["image"]
    send: list[tuple[Image, str]] = []
    refused: dict[str, tuple[Sent, str]] = {}
    waiting = 0
    for image in plan.catalog.images:
        key = image.key()
        label = f"{image.kind} image {image.position} of {image.style_number}" + (
            f" {image.color_code}" if image.color_code else ""
        )
        if image.style_number not in holds:
            waiting += 1
            continue
        image = dataclasses.replace(image, style_partner_id=holds[image.style_number])
        digest = image_hash(image)
        if key in plan.catalog.image_problems:
            refused[key] = (Sent(digest, label), plan.catalog.image_problems[key])
            continue
        if why_send(rows.get(key), digest, full=plan.full, resumed=plan.resumed) is not None:
            send.append((image, digest))
    return send, refused, waiting


def _linesheets(plan: _Plan, holds: Mapping[str, str | None]) -> tuple[list[tuple[Linesheet, str]], int]:
    """Linesheets to send, each with only the styles the partner holds (a style that reaches it
    later changes the linesheet, which then goes again), and how many hold none of theirs yet."""
    rows = plan.state["linesheet"]
    send: list[tuple[Linesheet, str]] = []
    waiting = 0
    for sheet in plan.catalog.linesheets:
        styles = tuple(s for s in sheet.styles if s in holds)
        if not styles:
            waiting += 1
            continue
        sheet = dataclasses.replace(sheet, styles=styles, partner_ids=tuple(holds[s] for s in styles))
        digest = linesheet_hash(sheet)
        if why_send(rows.get(sheet.name), digest, full=plan.full, resumed=plan.resumed) is not None:
            send.append((sheet, digest))
    return send, waiting


def _holds(plan: _Plan) -> dict[str, str | None]:
    """Style number -> partner id of the active styles the partner holds, as recorded."""
    active = {s.number for s in plan.catalog.styles if s.active}
    return {key: row.partner_id for key, row in plan.state["style"].items() if row.held and key in active}


def plan_push(site_ref: int | str, *, full: bool = False) -> PushResult:
    """A dry run: what a push would send, remove and refuse now. It writes nothing (a read-only
    transaction) and asks the partner only for what it holds (to match styles) and its checks."""
    started = time.monotonic()
    session = new_session()
    try:
        session.execute(text("SET TRANSACTION READ ONLY"))
        ctx = open_site(session, site_ref)
        plan = _plan(session, ctx, full=full)
        session.commit()
    finally:
        session.close()
    result = PushResult(ctx.id, ctx.name, ctx.label, full=full, dry_run=True)
    pusher: CatalogPusher | None = None
    try:
        if plan.send:
            pusher = ctx.open("catalog")
            matches, match_problems = _match(plan, pusher)
            ready, refused = _checked(plan, pusher, matches, match_problems)
        else:
            matches, ready, refused = {}, [], {}
    finally:
        if pusher is not None:
            pusher.close()
    whys = {style.number: why for style, _, why in plan.send}
    for style, _ in ready:
        result.add("style", TO_SEND)
        _listed(
            result.items,
            {
                "kind": "style",
                "key": style.number,
                "label": style.description,
                "action": "send",
                "why": whys[style.number],
            },
        )
    for number, (item, message) in refused.items():
        result.add("style", REJECTED)
        _listed(result.rejected, {"kind": "style", "key": number, "label": item.label, "message": message})
    for number, m in matches.items():
        _listed(result.matched, {"style": number, "partner_id": m.partner_id, "by": m.by})
    result.add("style", UNCHANGED, plan.unchanged)
    mode = _removal_mode(plan, result)
    if mode:
        for style in plan.remove:
            result.add("style", TO_REMOVE)
            _listed(
                result.items,
                {
                    "kind": "style",
                    "key": style.number,
                    "label": style.description,
                    "action": mode,
                    "why": "inactive in the ERP",
                },
            )
    # Images and linesheets as they would go if every style sent now were accepted.
    holds = _holds(plan) | {style.number: style.partner_id for style, _ in ready}
    if plan.spec.images:
        images, bad, waiting = _images(plan, holds)
        result.add("image", TO_SEND, len(images))
        result.add("image", REJECTED, len(bad))
        result.add("image", HELD_BACK, waiting)
        result.add("image", UNCHANGED, len(plan.catalog.images) - len(images) - len(bad) - waiting)
        for key, (item, message) in bad.items():
            _listed(result.rejected, {"kind": "image", "key": key, "label": item.label, "message": message})
    if plan.spec.linesheets:
        sheets, waiting = _linesheets(plan, holds)
        result.add("linesheet", TO_SEND, len(sheets))
        result.add("linesheet", HELD_BACK, waiting)
        result.add("linesheet", UNCHANGED, len(plan.catalog.linesheets) - len(sheets) - waiting)
        for sheet, _ in sheets:
            _listed(
                result.items,
                {
                    "kind": "linesheet",
                    "key": sheet.name,
                    "label": sheet.season,
                    "action": "send",
                    "why": "new or changed",
                },
            )
    _gone_note(plan, result)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def push_catalog(
    site_id: int,
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    celery_task_id: str | None = None,
    batch_size: int | None = None,
) -> PushResult:
    """Push a site's catalog to its partner; one push per site at a time (skips when busy).

    ``dry_run`` only plans (:func:`plan_push`). ``progress(kind, done, total)`` is called before
    each kind's first batch and after each batch. ``batch_size`` overrides the partner's batch
    sizes (tests). A partner down for now (``RetryableError``) or refusing the credentials
    (``AuthError``) ends the run: what was answered before is recorded, and the next push
    (the task's retry) resumes from there."""
    if dry_run:
        return plan_push(site_id, full=full)
    with session_scope() as s:
        open_site(s, site_id).spec.capability("catalog")  # NotOffered, in words, before any run is recorded
    with advisory_lock(site_lock_name(TASK, site_id)) as got:
        if not got:
            log.info("catalog_push_skipped_busy", site=site_id)
            return PushResult(site_id, full=full, skipped="another catalog push of this site is running")
        with recorded_run(TASK, site_id, celery_task_id, holds_lock=True) as run:
            run.counts["full"] = full
            result = _push(site_id, run.id, full=full, progress=progress, batch_size=batch_size, counts=run.counts)
            if result.skipped:
                run.outcome = "skipped"
            run.counts.update(result.summary())
            return result


def _push(
    site_id: int,
    run_id: int,
    *,
    full: bool,
    progress: Progress | None,
    batch_size: int | None,
    counts: dict[str, Any],
) -> PushResult:
    started = time.monotonic()
    with session_scope() as s:
        # Marked full at once: a worker killed mid-push leaves this row for the next full push to read.
        s.execute(update(SyncRun).where(SyncRun.id == run_id).values(counts={"full": full}))
        ctx = open_site(s, site_id)
        result = PushResult(ctx.id, ctx.name, ctx.label, full=full, run_id=run_id)
        if not ctx.site.active:
            result.skipped = "the site is paused (bobbin sites resume SITE)"
            return result
        plan = _plan(s, ctx, full=full, run_id=run_id)
        if plan.forget:
            forget(s, site_id, "style", plan.forget)
    result.add("style", UNCHANGED, plan.unchanged)
    holds = _holds(plan)
    pusher = ctx.open("catalog")
    try:
        _send_styles(plan, pusher, result, holds, run_id, progress, batch_size)
        _remove_styles(plan, pusher, result, holds, run_id, progress, batch_size)
        if plan.spec.images:
            images, bad, waiting = _images(plan, holds)
            result.add("image", HELD_BACK, waiting)
            result.add("image", UNCHANGED, len(plan.catalog.images) - len(images) - len(bad) - waiting)
            sender = Batches(site_id, run_id, "image", result, progress, plan.state["image"])
            sender.refuse(bad)
            sender.run(
                [image for image, _ in images],
                batch_size or plan.spec.batch_images,
                pusher.send_images,
                _image_sent({image.key(): digest for image, digest in images}),
            )
        if plan.spec.linesheets:
            sheets, waiting = _linesheets(plan, holds)
            result.add("linesheet", HELD_BACK, waiting)
            result.add("linesheet", UNCHANGED, len(plan.catalog.linesheets) - len(sheets) - waiting)
            digests = {sheet.name: digest for sheet, digest in sheets}
            Batches(site_id, run_id, "linesheet", result, progress, plan.state["linesheet"]).run(
                [sheet for sheet, _ in sheets],
                batch_size or plan.spec.batch_styles,
                pusher.send_linesheets,
                lambda sheet: (sheet.name, Sent(digests[sheet.name], sheet.season)),
            )
        _gone_note(plan, result)
    finally:
        pusher.close()
        result.seconds = round(time.monotonic() - started, 3)
        counts.update(result.summary())  # also when the run fails half-way: what got through
    if result.total(REJECTED):
        log.warning("catalog_items_rejected", site=site_id, rejected=result.total(REJECTED), new=result.new_rejections)
    return result


def _image_sent(digests: Mapping[str, str]) -> Callable[[Image], tuple[str, Sent]]:
    def sent(image: Image) -> tuple[str, Sent]:
        key = image.key()
        return key, Sent(digests[key], f"{image.kind} image {image.position} of {image.style_number}")

    return sent


def _send_styles(
    plan: _Plan,
    pusher: CatalogPusher,
    result: PushResult,
    holds: dict[str, str | None],
    run_id: int,
    progress: Progress | None,
    batch_size: int | None,
) -> None:
    site_id = plan.ctx.id
    matches, match_problems = _match(plan, pusher)
    if matches:
        with session_scope() as s:
            record_matches(s, site_id, run_id, matches)
        for number, m in matches.items():
            _listed(result.matched, {"style": number, "partner_id": m.partner_id, "by": m.by})
    ready, refused = _checked(plan, pusher, matches, match_problems)
    digests = {style.number: digest for style, digest in ready}

    def answered(a: ItemResult, item: Sent) -> None:
        if a.outcome == ACCEPTED:
            holds[a.key] = a.partner_id or item.partner_id

    sender = Batches(site_id, run_id, "style", result, progress, plan.state["style"], answered)
    sender.refuse(refused)
    sender.run(
        [style for style, _ in ready],
        batch_size or plan.spec.batch_styles,
        lambda batch: pusher.send_styles(batch, full=plan.full),
        lambda style: (
            style.number,
            Sent(
                digests[style.number],
                style.description,
                style.partner_id,
                matches[style.number].by if style.number in matches else None,
            ),
        ),
    )


def _remove_styles(
    plan: _Plan,
    pusher: CatalogPusher,
    result: PushResult,
    holds: dict[str, str | None],
    run_id: int,
    progress: Progress | None,
    batch_size: int | None,
) -> None:
    mode = _removal_mode(plan, result)
    if mode is None:
        return
    site_id = plan.ctx.id
    styles = {s.number: s for s in plan.remove}
    rows = plan.state["style"]

    def send(batch: Sequence[CatalogStyle]) -> list[ItemResult]:
        # A removal carried out is "removed" whatever word the partner used; a refusal says what failed.
        return [
            a._replace(outcome="removed")
            if a.outcome == ACCEPTED
            else a._replace(message=f"could not {mode} it on {plan.ctx.label}: {a.message or 'no reason given'}")
            if a.outcome == REJECTED
            else a
            for a in pusher.remove_styles(batch)
        ]

    def sent_of(style: CatalogStyle) -> tuple[str, Sent]:
        row = rows.get(style.number)
        # The removal is about what the partner holds: its recorded hash stays the item's.
        return style.number, Sent(row.accepted_hash if row else None, style.description, style.partner_id)

    def answered(a: ItemResult, item: Sent) -> None:
        style = styles[a.key]
        outcome = a.outcome
        if outcome not in (REMOVED, REJECTED):
            return
        with session_scope() as s:
            s.add(
                CatalogRemoval(
                    site_id=site_id,
                    run_id=run_id,
                    style_number=style.number,
                    partner_id=style.partner_id,
                    action=mode,
                    outcome=outcome,
                    message=a.message,
                    snapshot=snapshot(style),
                )
            )
            if outcome == REMOVED and mode == "remove":  # gone from the partner: active again, it is created anew
                s.execute(
                    update(CatalogPushState)
                    .where(
                        CatalogPushState.site_id == site_id,
                        CatalogPushState.kind == "style",
                        CatalogPushState.key == style.number,
                    )
                    .values(partner_id=None)
                )
        holds.pop(a.key, None)
        if outcome == REMOVED:
            _listed(result.removed, {"style": style.number, "partner_id": style.partner_id, "action": mode})

    Batches(site_id, run_id, "style", result, progress, rows, answered, progress_kind="removal").run(
        plan.remove, batch_size or plan.spec.batch_styles, send, sent_of
    )
