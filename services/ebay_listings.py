"""eBay listings out: a site's flagged listing records become eBay inventory items, item groups,
offers and live listings — the work behind ``tasks.ebay.push_listings`` and ``bobbin ebay push``,
callable without Celery. ``export_csv`` writes the same records as a seller-upload file instead.

What is sent
------------
Every record of the site with the "update eBay" flag (``ebay_listing.needs_update``), checked
first by ``connectors.ebay.listing.listing_problems`` (at most 12 pictures, a category, a price
above 0, a title, a known format / duration / condition; an ERP SKU). A record that fails a check
is kept back: its flag stays, its ``last_error`` says why, and it is a problem row; the rest go on.
The HTML description is sanitised (``connectors.ebay.listing.sanitize_description``); one that
held a script tag, event handlers or a ``javascript:`` URL is sent without them and the SKU
carries a warning.

1. **Inventory items** (bulk createOrReplaceInventoryItem, 25 a call): title, sanitised
   description, aspects (Color, Size), pictures, condition, the style number as MPN, the UPC, and
   the quantity available to sell. The quantity is the inventory push's ATS
   (``services.inventory.desired_buckets``: on hand − allocated − held by open orders, per ERP
   warehouse in the site's ``inventory_warehouses``, summed into one count, with the site's floor
   and cap), immediate stock only.
2. **Groups**: the fixed-price SKUs of one style that go to eBay together — the flagged ones whose
   item eBay took, and those already listed in the style's group — become one inventory item group
   (key: the style number) varying by Color and Size, when there are two or more. An auction, or a
   style's only SKU, is listed on its own.
3. **Offers**: the SKU's existing offer on the site's marketplace in the record's format is read
   first (getOffers) and updated; only a SKU with none gets a new one (createOffer; an answer "offer
   exists" names the existing offer, which is then updated). Format, duration, categories 1 and 2,
   price, quantity, the site's marketplace, location and business policies.
4. **Publish**: ``publishOffer`` for a single SKU, ``publishOfferByInventoryItemGroup`` for a
   group — unless every offer is already PUBLISHED with a listing id (an update to a live offer
   revises its listing at once [DOC updateOffer], so nothing is published twice).

What eBay answered is written after each listing (one SKU, or one group): accepted SKUs get their
flag cleared, the offer and listing ids and when they were published; refused ones keep their flag
and get eBay's errors (errorId and message) in ``last_error`` and as a ``catalog_push_state`` row of
kind ``listing`` — read by ``bobbin status``, the dashboard and the error e-mail. A push that stops
half-way (worker killed, eBay down) is safe to run again: offers are looked up before any is made
and a published offer is never published again.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.catalog import ACCEPTED, REJECTED, ItemResult
from connectors.ebay import contract as c
from connectors.ebay import listing as rules
from connectors.ebay.client import BulkResult, EbayClient, EbayError, EbayRejected
from connectors.ebay.settings import EbaySettings
from connectors.errors import PartnerRejected
from core.db import session_scope
from core.locks import advisory_lock, site_lock_name
from models import EbayListing, Sku, Style, StyleColor
from services import catalog as catalog_push
from services import inventory
from services.context import SiteContext
from services.ebay_listings_load import CONTENT_FIELDS, default_title
from services.inventory import PushPolicy, desired_buckets, load_held, load_stock
from services.runs import recorded_run
from services.sites import SiteError, open_site

log = structlog.get_logger()

TASK = "push_listings"
PROBLEM_KIND = "listing"  # catalog_push_state.kind of a refused listing
EBAY_KIND = "ebay"
# Inventory items per bulk call: eBay's limit [DOC: at most 25]; a call of 25 items with their
# descriptions is some hundred KB and one round trip instead of 25.
ITEMS_PER_CALL = c.BULK_LIMIT
MESSAGE_CHARS = 1000  # longest refusal kept on a record (eBay's longMessage can be long)

Progress = Callable[[int, int], None]  # (listings settled so far, listings to send)


# --- what a push did -----------------------------------------------------------------------------------
@dataclass
class Call:
    """One request a dry run would send (or a push sent): what, for which SKUs, and its body."""

    call: str  # e.g. "PUT inventory_item_group/ABC123"
    skus: list[str]
    body: Any = None


@dataclass
class ListingPushResult:
    site_id: int
    site: str = ""
    dry_run: bool = False
    run_id: int | None = None
    flagged: int = 0
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # SKU -> eBay's message
    kept_back: dict[str, str] = field(default_factory=dict)  # SKU -> why it was not sent
    warnings: dict[str, str] = field(default_factory=dict)  # SKU -> what was changed on the way
    published: list[tuple[str, list[str]]] = field(default_factory=list)  # (listing id, SKUs) published now
    already_live: list[str] = field(default_factory=list)  # SKUs whose live listing was revised, not published
    calls: list[Call] = field(default_factory=list)  # a dry run's plan
    notes: list[str] = field(default_factory=list)  # what a person should know (a dry run: settings missing)
    skipped: str | None = None
    new_rejections: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "site": self.site,
            "dry_run": self.dry_run,
            "run_id": self.run_id,
            "flagged": self.flagged,
            "accepted": len(self.accepted),
            "rejected": len(self.rejected),
            "kept_back": len(self.kept_back),
            "warnings": len(self.warnings),
            "published": len(self.published),
            "skipped": self.skipped,
            "new_rejections": self.new_rejections,
            "seconds": round(self.seconds, 3),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "accepted_skus": self.accepted,
            "rejected_skus": self.rejected,
            "kept_back_skus": self.kept_back,
            "warning_skus": self.warnings,
            "listings": [{"listing_id": lid, "skus": skus} for lid, skus in self.published],
            "already_live": self.already_live,
            "calls": [{"call": x.call, "skus": x.skus, "body": x.body} for x in self.calls],
            "notes": self.notes,
        }


# --- reading the records ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """A listing record as the push works with it: its input to the rules and what eBay holds."""

    id: int
    input: rules.ListingInput
    needs_update: bool
    offer_id: str | None
    listing_id: str | None
    group_key: str | None
    published_at: datetime | None


def available_to_sell(session: Session, ctx: SiteContext, skus: Iterable[str]) -> dict[str, int]:
    """The inventory push's ATS of each SKU summed over the site's warehouses (immediate stock, the
    site's floor and cap applied): what eBay may sell. A SKU with no inventory row has 0."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    settings = ctx.settings
    policy = PushPolicy(
        immediate=True,
        future=False,
        warehouses=dict(settings.inventory_warehouses) or None,
        cap=settings.inventory_cap,
        floor=settings.inventory_floor,
        per_warehouse=False,
    )
    held, unassigned = load_held(session)
    chosen = set(wanted)
    held = {key: qty for key, qty in held.items() if key[0] in chosen}
    unassigned = {sku: qty for sku, qty in unassigned.items() if sku in chosen}
    stock = load_stock(session, ctx.site.division_code, wanted)
    out = dict.fromkeys(wanted, 0)
    for (_, day), per_sku in desired_buckets(stock, policy, held, unassigned).items():
        if day is None:
            for sku, qty in per_sku.items():
                out[sku] = out.get(sku, 0) + qty
    return out


def load_records(
    session: Session, ctx: SiteContext, *, styles: Iterable[str] | None = None, flagged_only: bool = False
) -> list[Record]:
    """The site's listing records (flagged only, or of ``styles``) with their SKUs' ERP facts."""
    query = (
        select(EbayListing, Sku.style_number, Style.description, Sku.color_code, StyleColor.color_name)
        .add_columns(Sku.size, Sku.size_index, Sku.upc)
        .outerjoin(Sku, Sku.sku == EbayListing.sku)
        .outerjoin(Style, Style.number == Sku.style_number)
        .outerjoin(
            StyleColor, (StyleColor.style_number == Sku.style_number) & (StyleColor.color_code == Sku.color_code)
        )
        .where(EbayListing.site_id == ctx.id)
        .order_by(EbayListing.sku)
    )
    if flagged_only:
        query = query.where(EbayListing.needs_update)
    if styles is not None:
        query = query.where(Sku.style_number.in_(sorted(set(styles))))
    rows = session.execute(query).all()
    quantities = available_to_sell(session, ctx, (row[0].sku for row in rows))
    brand = getattr(ctx.settings, "brand", None)  # [INF] a Brand aspect, once the site's settings name one
    out = []
    for rec, style, description, color_code, color_name, size, size_index, upc in rows:
        out.append(
            Record(
                id=rec.id,
                input=rules.ListingInput(
                    sku=rec.sku,
                    title=rec.title,
                    description_html=rec.description_html,
                    listing_format=rec.listing_format,
                    duration=rec.duration,
                    category1=rec.category1,
                    category2=rec.category2,
                    condition=rec.condition,
                    image_urls=tuple(str(u) for u in rec.image_urls or []),
                    price=rec.price,
                    currency=rec.currency,
                    style_number=style,
                    style_description=description,
                    color_code=color_code,
                    color_name=color_name,
                    size=size,
                    size_index=int(size_index or 0),
                    upc=upc,
                    quantity=quantities.get(rec.sku, 0),
                    brand=brand if isinstance(brand, str) else None,
                ),
                needs_update=rec.needs_update,
                offer_id=rec.offer_id,
                listing_id=rec.listing_id,
                group_key=rec.group_key,
                published_at=rec.published_at,
            )
        )
    return out


# What an offer needs from the site before eBay publishes it [DOC publishOffer: a location and the
# three business policies], by setting name.
NEEDED_SETTINGS = ("merchant_location_key", "fulfillment_policy_id", "payment_policy_id", "return_policy_id")


def missing_settings(settings: EbaySettings | Any) -> list[str]:
    """The site settings a listing needs that the site has not got (eBay refuses to publish without)."""
    return [name for name in NEEDED_SETTINGS if not getattr(settings, name, None)]


def offer_terms(settings: EbaySettings | Any) -> rules.OfferTerms:
    return rules.OfferTerms(
        marketplace_id=getattr(settings, "marketplace_id", c.DEFAULT_MARKETPLACE),
        merchant_location_key=getattr(settings, "merchant_location_key", None),
        fulfillment_policy_id=getattr(settings, "fulfillment_policy_id", None),
        payment_policy_id=getattr(settings, "payment_policy_id", None),
        return_policy_id=getattr(settings, "return_policy_id", None),
    )


# --- the plan: what goes to eBay, as which listings -------------------------------------------------------
@dataclass
class Listing:
    """One eBay listing to send: a single SKU, or a style's group (``key``)."""

    key: str | None  # the inventory item group key; None: a single-SKU listing
    sending: list[Record]  # flagged records whose item eBay took
    members: list[Record]  # every SKU of the group (sending + already in the group); [the one] for a single

    @property
    def skus(self) -> list[str]:
        return [r.input.sku for r in self.sending]


def group_listings(sending: Sequence[Record], grouped: Mapping[str, Sequence[Record]]) -> list[Listing]:
    """Split the records to send into listings: per style, its fixed-price SKUs to send plus those
    already in its group (``grouped``: style -> records with that group key) are one group when
    they are two or more; an auction, or a style's only SKU, is a listing of its own."""
    out: list[Listing] = []
    by_style: dict[str, list[Record]] = {}
    for record in sending:
        style = record.input.style_number
        if record.input.listing_format == c.FORMAT_FIXED_PRICE and style:
            by_style.setdefault(style, []).append(record)
        else:
            out.append(Listing(None, [record], [record]))
    for style, records in by_style.items():
        key = rules.group_key(style)
        sending_skus = {r.input.sku for r in records}
        members = list(records) + [
            r
            for r in grouped.get(style, ())
            if r.input.sku not in sending_skus and r.input.listing_format == c.FORMAT_FIXED_PRICE
        ]
        if len(members) >= 2:
            out.append(Listing(key, records, members))
        else:
            out.extend(Listing(None, [r], [r]) for r in records)
    return out


def _group_title(listing: Listing) -> str:
    first = listing.members[0].input
    return (first.style_description or first.title or listing.key or "").strip()[: rules.MAX_TITLE_CHARS]


# --- the push ------------------------------------------------------------------------------------------------
def push_listings(
    site_id: int | str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    celery_task_id: str | None = None,
) -> ListingPushResult:
    """Send the site's flagged listing records to eBay (see the module's docstring); one push per
    site at a time (skips when another runs). ``dry_run``: work out every request and send none."""
    with session_scope() as s:
        ctx = open_site(s, site_id)
        if ctx.site.kind != EBAY_KIND:
            raise SiteError(f"site {ctx.name} is a {ctx.label} site: eBay listings go to eBay sites only")
        sid = ctx.id
    missing = missing_settings(ctx.settings)
    if missing and not dry_run:  # every publish would be refused: say so once, send nothing
        raise SiteError(
            f"site {ctx.name} has no {', '.join(missing)}: eBay publishes no offer without the seller's inventory "
            f"location and business policies (made in the seller's eBay account); set them with "
            f"`bobbin sites set {ctx.name} {' '.join(f'{m}=...' for m in missing)}`"
        )
    if dry_run:
        return _run(sid, None, dry_run=True, progress=progress)
    with advisory_lock(site_lock_name(TASK, sid)) as got:
        if not got:
            log.info("listing_push_skipped_busy", site=sid)
            return ListingPushResult(sid, skipped="another listing push of this site is running")
        with recorded_run(TASK, sid, celery_task_id, holds_lock=True) as run:
            result = _run(sid, run.id, dry_run=False, progress=progress, counts=run.counts)
            if result.skipped:
                run.outcome = "skipped"
                run.note = result.skipped
            run.counts.update(result.summary())
            return result


def _run(
    site_id: int,
    run_id: int | None,
    *,
    dry_run: bool,
    progress: Progress | None,
    counts: dict[str, Any] | None = None,
) -> ListingPushResult:
    started = time.monotonic()
    with session_scope() as s:
        ctx = open_site(s, site_id)
        result = ListingPushResult(ctx.id, ctx.name, dry_run=dry_run, run_id=run_id)
        if not ctx.site.active and not dry_run:
            result.skipped = "the site is paused (bobbin sites resume SITE)"
            return result
        flagged = load_records(s, ctx, flagged_only=True)
        styles = {r.input.style_number for r in flagged if r.input.style_number}
        in_groups: dict[str, list[Record]] = {}
        for record in load_records(s, ctx, styles=styles) if styles else []:
            if record.group_key and record.input.style_number:
                in_groups.setdefault(record.input.style_number, []).append(record)
    result.flagged = len(flagged)
    terms = offer_terms(ctx.settings)
    described: dict[str, rules.Sanitized] = {}
    sending: list[Record] = []
    for record in flagged:
        description = rules.sanitize_description(record.input.description_html)
        described[record.input.sku] = description
        problems = rules.listing_problems(record.input)
        if problems:
            result.kept_back[record.input.sku] = "; ".join(problems)
            continue
        if description.warning:
            result.warnings[record.input.sku] = description.warning
        sending.append(record)
    if not dry_run:
        _record(site_id, run_id, result, [r for r in flagged if r.input.sku in result.kept_back], described)
    if dry_run:
        missing = missing_settings(ctx.settings)
        if missing:
            result.notes.append(f"the site has no {', '.join(missing)}: a push would be refused until it is set")
        _plan_calls(sending, in_groups, described, terms, result)
        result.seconds = time.monotonic() - started
        return result
    if not sending:
        result.seconds = time.monotonic() - started
        return result

    client: EbayClient = ctx.client()
    try:
        took = _send_items(client, sending, described, result)
        refused_items = [r for r in sending if r.input.sku not in took]
        _record(site_id, run_id, result, refused_items, described)
        listings = group_listings([r for r in sending if r.input.sku in took], in_groups)
        total = len(listings)
        if progress:
            progress(0, total)
        for done, listing in enumerate(listings, start=1):
            published = _send_listing(client, listing, described, terms, result)
            _record(site_id, run_id, result, listing.sending, described, listing=listing, published=published)
            if progress:
                progress(done, total)
            if counts is not None:
                counts.update(result.summary())
    finally:
        client.close()
    result.seconds = time.monotonic() - started
    return result


def _error_text(errors: Sequence[EbayError], fallback: str) -> str:
    said = "; ".join(e.describe() for e in errors)
    return (said or fallback)[:MESSAGE_CHARS]


def _refusal(exc: Exception) -> str:
    if isinstance(exc, EbayRejected) and exc.errors:
        return _error_text(exc.errors, str(exc))
    return str(exc)[:MESSAGE_CHARS]


def _send_items(
    client: EbayClient, sending: Sequence[Record], described: Mapping[str, rules.Sanitized], result: ListingPushResult
) -> set[str]:
    """The SKUs' inventory items, 25 a call; returns the SKUs eBay took (the rest are in ``result.rejected``)."""
    took: set[str] = set()
    for start in range(0, len(sending), ITEMS_PER_CALL):
        batch = sending[start : start + ITEMS_PER_CALL]
        bodies = []
        for record in batch:
            body = rules.inventory_item(record.input, described[record.input.sku])
            body[c.ItemField.LOCALE] = client.content_language.replace("-", "_")
            bodies.append(body)
        try:
            answers: list[BulkResult] = client.bulk_create_or_replace_inventory_items(bodies)
        except (PartnerRejected, ValueError) as exc:
            message = f"eBay refused the inventory item: {_refusal(exc)}"
            for record in batch:
                result.rejected[record.input.sku] = message
            continue
        for answer in answers:
            if answer.ok:
                took.add(answer.sku)
            else:
                result.rejected[answer.sku] = "eBay refused the inventory item: " + _error_text(
                    answer.errors, f"HTTP {answer.status_code}"
                )
    return took


@dataclass
class _Offer:
    offer_id: str
    published: bool
    listing_id: str | None


def _existing_offer(client: EbayClient, sku: str, terms: rules.OfferTerms, listing_format: str) -> _Offer | None:
    """The SKU's offer on the site's marketplace in this format, as eBay holds it (None: none yet)."""
    OF = c.OfferField
    for found in client.get_offers(sku, terms.marketplace_id):
        if found.get(OF.MARKETPLACE_ID, terms.marketplace_id) != terms.marketplace_id:
            continue
        if found.get(OF.FORMAT, listing_format) != listing_format:
            continue
        listing = found.get(OF.LISTING) or {}
        listing_id = listing.get(OF.LISTING_ID) if isinstance(listing, dict) else None
        return _Offer(
            str(found.get(OF.OFFER_ID)),
            found.get(OF.STATUS) == c.OFFER_PUBLISHED and bool(listing_id),
            str(listing_id) if listing_id else None,
        )
    return None


def _put_offer(client: EbayClient, record: Record, body: Mapping[str, Any], terms: rules.OfferTerms) -> _Offer:
    """The SKU's offer made or brought up to date: the existing one updated, else a new one (never
    a second: eBay's "offer exists" answer names the one to update)."""
    sku = record.input.sku
    existing = _existing_offer(client, sku, terms, record.input.listing_format)
    if existing is not None:
        client.update_offer(existing.offer_id, body)
        return existing
    try:
        offer_id = client.create_offer(body)
    except EbayRejected as exc:
        named = exc.parameter(c.PARAM_OFFER_ID)
        if named is None:
            raise
        log.info("ebay_offer_exists", sku=sku, offer_id=named)
        found = _existing_offer(client, sku, terms, record.input.listing_format)
        if found is None or found.offer_id != named:
            raise
        client.update_offer(found.offer_id, body)
        return found
    return _Offer(offer_id, False, None)


@dataclass
class _Published:
    listing_id: str | None
    offers: dict[str, str]  # SKU -> offer id
    now: bool  # published by this push (False: it was live already)


def _send_listing(
    client: EbayClient,
    listing: Listing,
    described: Mapping[str, rules.Sanitized],
    terms: rules.OfferTerms,
    result: ListingPushResult,
) -> _Published | None:
    """One listing: the group (if any), each SKU's offer, then publish unless it is live already.
    A refusal rejects the listing's SKUs with eBay's message (None returned)."""
    skus = listing.skus
    offers: dict[str, _Offer] = {}
    try:
        if listing.key is not None:
            first = described[listing.sending[0].input.sku]
            client.put_inventory_item_group(
                listing.key, rules.item_group([m.input for m in listing.members], first, _group_title(listing))
            )
        for record in listing.sending:
            sku = record.input.sku
            try:
                offers[sku] = _put_offer(client, record, rules.offer(record.input, described[sku], terms), terms)
            except PartnerRejected as exc:
                result.rejected[sku] = f"eBay refused the offer: {_refusal(exc)}"
        if not offers:
            return None
        live = [sku for sku, o in offers.items() if o.published]
        if listing.key is None:
            (sku, offer), *_ = offers.items()
            if offer.published:
                result.already_live.append(sku)
                return _Published(offer.listing_id, {sku: offer.offer_id}, now=False)
            listing_id = client.publish_offer(offer.offer_id)
            result.published.append((listing_id, [sku]))
            return _Published(listing_id, {sku: offer.offer_id}, now=True)
        members_live = all(o.published for o in offers.values()) and all(
            m.listing_id for m in listing.members if m.input.sku not in offers
        )
        if members_live:
            result.already_live.extend(live)
            live_id = next((o.listing_id for o in offers.values() if o.listing_id), None)
            return _Published(live_id, {k: o.offer_id for k, o in offers.items()}, now=False)
        listing_id = client.publish_by_inventory_item_group(listing.key, terms.marketplace_id)
        result.published.append((listing_id, sorted(offers)))
        return _Published(listing_id, {k: o.offer_id for k, o in offers.items()}, now=True)
    except PartnerRejected as exc:
        what = "the item group" if listing.key is not None and not offers else "publishing"
        message = f"eBay refused {what}: {_refusal(exc)}"
        for sku in skus:
            result.rejected.setdefault(sku, message)
        if offers:  # the offers exist on eBay: keep their ids, publish is tried again next time
            return _Published(None, {k: o.offer_id for k, o in offers.items()}, now=False)
        return None


def _record(
    site_id: int,
    run_id: int | None,
    result: ListingPushResult,
    records: Sequence[Record],
    described: Mapping[str, rules.Sanitized],
    *,
    listing: Listing | None = None,
    published: _Published | None = None,
) -> None:
    """Write what eBay answered (or the check that kept a record back) on the records and as
    problem rows, in one transaction: accepted -> flag cleared; refused -> flag kept, message."""
    if not records:
        return
    now = datetime.now(UTC)
    answers: list[ItemResult] = []
    sent: dict[str, catalog_push.Sent] = {}
    with session_scope() as s:
        for record in records:
            sku = record.input.sku
            warning = described[sku].warning if sku in described else None
            message = result.kept_back.get(sku) or result.rejected.get(sku)
            values: dict[str, Any] = {"warning": warning}
            offer_id = published.offers.get(sku) if published is not None else None
            if offer_id:
                values["offer_id"] = offer_id
            if message is None and published is not None and offer_id:
                values.update(
                    needs_update=False,
                    listing_id=published.listing_id or record.listing_id,
                    group_key=listing.key if listing is not None else None,
                    last_error=None,
                    last_error_at=None,
                )
                if published.now or record.published_at is None:
                    values["published_at"] = now
                result.accepted.append(sku)
                answers.append(ItemResult(sku, ACCEPTED, warning, published.listing_id))
            else:
                text = message or "eBay did not answer for this SKU"
                values.update(last_error=text, last_error_at=now)
                answers.append(ItemResult(sku, REJECTED, text))
            s.execute(update(EbayListing).where(EbayListing.id == record.id).values(**values))
            sent[sku] = catalog_push.Sent(None, (record.input.title or "")[:200] or None, record.listing_id)
        if result.accepted:  # the inventory push works these out again now that eBay holds them
            inventory.journal(s, [a.key for a in answers if a.outcome == ACCEPTED])
        before = {p["key"] for p in catalog_push.problems(s, site_id, [PROBLEM_KIND]) if p["key"] in sent}
        catalog_push.record_answers(s, site_id, run_id, PROBLEM_KIND, answers, sent)
        result.new_rejections += sum(1 for a in answers if a.outcome == REJECTED and a.key not in before)


def _plan_calls(
    sending: Sequence[Record],
    in_groups: Mapping[str, Sequence[Record]],
    described: Mapping[str, rules.Sanitized],
    terms: rules.OfferTerms,
    result: ListingPushResult,
) -> None:
    """A dry run: every request a push would send for these records, in order (offers as "create
    or update": which one is eBay's answer to getOffers, which a dry run does not ask)."""
    for start in range(0, len(sending), ITEMS_PER_CALL):
        batch = sending[start : start + ITEMS_PER_CALL]
        result.calls.append(
            Call(
                f"POST {c.BULK_INVENTORY_ITEM}",
                [r.input.sku for r in batch],
                {c.REQUESTS: [rules.inventory_item(r.input, described[r.input.sku]) for r in batch]},
            )
        )
    for listing in group_listings(sending, in_groups):
        if listing.key is not None:
            body = rules.item_group(
                [m.input for m in listing.members], described[listing.sending[0].input.sku], _group_title(listing)
            )
            result.calls.append(
                Call(f"PUT {c.INVENTORY_ITEM_GROUP.format(inventoryItemGroupKey=listing.key)}", listing.skus, body)
            )
        for record in listing.sending:
            sku = record.input.sku
            result.calls.append(
                Call(
                    f"POST {c.OFFERS} (or PUT {c.OFFER.format(offerId=record.offer_id or '{offerId}')})",
                    [sku],
                    rules.offer(record.input, described[sku], terms),
                )
            )
        if listing.key is not None:
            result.calls.append(
                Call(
                    f"POST {c.PUBLISH_BY_GROUP} (unless live)",
                    listing.skus,
                    {c.PUBLISH_GROUP_KEY: listing.key, c.PUBLISH_MARKETPLACE_ID: terms.marketplace_id},
                )
            )
        else:
            result.calls.append(Call(f"POST {c.OFFER_PUBLISH} (unless live)", listing.skus, None))


# --- people: list and edit records ------------------------------------------------------------------------
EDITABLE = CONTENT_FIELDS  # what a person may change is what a listing says (a change flags it)


def listings(session: Session, site_id: int, *, flagged_only: bool = False) -> list[EbayListing]:
    query = select(EbayListing).where(EbayListing.site_id == site_id).order_by(EbayListing.sku)
    if flagged_only:
        query = query.where(EbayListing.needs_update)
    return list(session.scalars(query))


@dataclass
class EditResult:
    sku: str
    created: bool
    changed: dict[str, tuple[Any, Any]]  # field -> (before, after)
    flagged: bool  # the flag after the edit
    problems: list[str]  # the listing rules it fails now (it would be kept back)


def edit_listing(
    session: Session,
    site_id: int,
    sku: str,
    changes: Mapping[str, Any],
    *,
    flag: bool | None = None,
) -> EditResult:
    """Change one record (made when the SKU has none: an ERP SKU is needed). A change of content
    sets the "update eBay" flag unless ``flag`` is False; ``flag`` True / False sets it as said.
    ValueError names a value that cannot be stored. The caller commits."""
    unknown = [k for k in changes if k not in EDITABLE]
    if unknown:
        raise ValueError(f"cannot change {', '.join(unknown)}")
    erp = session.execute(
        select(Sku.sku, Sku.style_number, Style.description, StyleColor.color_name, Sku.size)
        .join(Style, Style.number == Sku.style_number)
        .outerjoin(
            StyleColor, (StyleColor.style_number == Sku.style_number) & (StyleColor.color_code == Sku.color_code)
        )
        .where(Sku.sku == sku)
    ).first()
    if erp is None:
        raise ValueError(f"unknown SKU {sku}: it is not an ERP SKU (bobbin erp load styles)")
    record = session.scalars(
        select(EbayListing).where(EbayListing.site_id == site_id, EbayListing.sku == sku).with_for_update()
    ).first()
    created = record is None
    if record is None:
        record = EbayListing(
            site_id=site_id,
            sku=sku,
            listing_format=c.FORMAT_FIXED_PRICE,
            duration=c.DURATION_GTC,
            condition=rules.DEFAULT_CONDITION,
            title=default_title(str(erp.description), erp.color_name, str(erp.size)),
            image_urls=[],
            currency="USD",
            needs_update=False,
        )
        session.add(record)
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in changes.items():
        before = getattr(record, name)
        if name == "image_urls":
            value = list(value)
        if name == "price" and value is not None:
            value = Decimal(value).quantize(Decimal("0.01"))
        if before != value:
            changed[name] = (before, value)
            setattr(record, name, value)
    if flag is not None:
        record.needs_update = flag
    elif changed or created:
        record.needs_update = True
    session.flush()
    problems = rules.listing_problems(
        rules.ListingInput(
            sku=record.sku,
            title=record.title,
            description_html=record.description_html,
            listing_format=record.listing_format,
            duration=record.duration,
            category1=record.category1,
            category2=record.category2,
            condition=record.condition,
            image_urls=tuple(record.image_urls or []),
            price=record.price,
            currency=record.currency,
            style_number=str(erp.style_number),
        )
    )
    return EditResult(sku, created, changed, bool(record.needs_update), problems)


# --- the seller-upload file -----------------------------------------------------------------------------
# [DOC partners README 5.1] File Exchange's listing template: the first header is *Action with the
# site's parameters; an asterisk marks a required column. [INF] the columns after the documented
# required ones (CustomLabel, PicURL, Category2, C:<aspect>) as the README lists them.
ACTION_HEADER = "*Action(SiteID={site}|Country={country}|Currency={currency}|Version=1193)"
EXPORT_COLUMNS = (
    "*Category",
    "*Title",
    "*Description",
    "*ConditionID",
    "*Format",
    "*Duration",
    "*StartPrice",
    "*Quantity",
    "CustomLabel",
    "PicURL",
    "Category2",
    "C:Color",
    "C:Size",
    "C:Brand",
    "C:MPN",
    "UPC",
)
# File Exchange spells formats and durations its own way [DOC README 5.1: Format Auction / FixedPrice;
# Duration 1, 3, 5, 7, 10, 30 or GTC]; ConditionID numbers [INF recalled].
EXPORT_FORMATS = {c.FORMAT_FIXED_PRICE: "FixedPrice", c.FORMAT_AUCTION: "Auction"}
EXPORT_CONDITION_IDS = {
    "NEW": "1000",
    "NEW_OTHER": "1500",
    "NEW_WITH_DEFECTS": "1750",
    "PRE_OWNED_EXCELLENT": "2990",
    "USED_EXCELLENT": "3000",
    "PRE_OWNED_FAIR": "3010",
    "USED_VERY_GOOD": "4000",
    "USED_GOOD": "5000",
    "USED_ACCEPTABLE": "6000",
    "FOR_PARTS_OR_NOT_WORKING": "7000",
}
MARKETPLACE_SITES = {  # marketplace -> (File Exchange SiteID, Country, Currency) [INF]
    "EBAY_US": ("US", "US", "USD"),
    "EBAY_GB": ("UK", "GB", "GBP"),
    "EBAY_DE": ("Germany", "DE", "EUR"),
    "EBAY_AU": ("Australia", "AU", "AUD"),
    "EBAY_CA": ("Canada", "CA", "CAD"),
    "EBAY_FR": ("France", "FR", "EUR"),
    "EBAY_IT": ("Italy", "IT", "EUR"),
    "EBAY_ES": ("Spain", "ES", "EUR"),
}


@dataclass
class ExportResult:
    site: str
    rows: int
    kept_back: dict[str, str]
    warnings: dict[str, str]
    text: str


def export_csv(site_id: int | str) -> ExportResult:
    """The site's flagged records as File Exchange's listing upload (one ``Add`` row per SKU, or
    ``Revise`` with its ItemID when it is listed), for a seller who uploads files. Records that fail
    the listing rules are left out and named; descriptions are sanitised as for the push. Nothing
    is changed: the flag is cleared by a push, not by writing a file."""
    with session_scope() as s:
        ctx = open_site(s, site_id)
        if ctx.site.kind != EBAY_KIND:
            raise SiteError(f"site {ctx.name} is a {ctx.label} site: eBay listings go to eBay sites only")
        records = load_records(s, ctx, flagged_only=True)
    marketplace = offer_terms(ctx.settings).marketplace_id
    site_code, country, currency = MARKETPLACE_SITES.get(marketplace, ("US", "US", "USD"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [ACTION_HEADER.format(site=site_code, country=country, currency=currency), "ItemID", *EXPORT_COLUMNS]
    )
    kept_back: dict[str, str] = {}
    warnings: dict[str, str] = {}
    rows = 0
    for record in records:
        item = record.input
        problems = rules.listing_problems(item)
        if problems:
            kept_back[item.sku] = "; ".join(problems)
            continue
        description = rules.sanitize_description(item.description_html)
        if description.warning:
            warnings[item.sku] = description.warning
        auction = item.listing_format == c.FORMAT_AUCTION
        duration = item.duration.removeprefix("DAYS_") if item.duration != c.DURATION_GTC else c.DURATION_GTC
        assert item.price is not None
        writer.writerow(
            [
                "Revise" if record.listing_id else "Add",
                record.listing_id or "",
                item.category1,
                (item.title or "").strip(),
                description.html,
                EXPORT_CONDITION_IDS.get(item.condition, item.condition),
                EXPORT_FORMATS[item.listing_format],
                duration,
                f"{item.price:.2f}",
                1 if auction else item.quantity,
                item.sku,
                "|".join(item.image_urls),
                item.category2 or "",
                item.color_name or item.color_code or "",
                item.size or "",
                item.brand or "",
                item.style_number or "",
                item.upc or "",
            ]
        )
        rows += 1
    return ExportResult(ctx.name, rows, kept_back, warnings, buffer.getvalue())


def write_export(site_id: int | str, path: Path | str) -> ExportResult:
    done = export_csv(site_id)
    Path(path).write_text(done.text, encoding="utf-8")
    return done
