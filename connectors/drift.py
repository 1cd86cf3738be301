"""Contract drift: noticing when a partner's payloads stop matching what the mapper reads.

Neither Brandboom's nor JOOR's order object is public; their field names are Bobbin's best reading
of the documents (each contract marks [DOC] / [INF] / [CODE]). A wrong guess fails silently: a
field the mapper looks for under the wrong name reads as absent, and the check it feeds (ship dates,
currency, the customer's e-mail) quietly switches off. So each partner's contract lists the fields
its mapper expects (:class:`Expected`: required or optional, every spelling, what is lost without
it) and every key it knows; each import run feeds the raw payloads it read to a
:class:`DriftCounter`, which counts per field the orders lacking it and the keys the contract does
not know. Its :meth:`DriftCounter.warnings` are sentences for a person — the run's summary keeps
them, ``bobbin status`` and the next error e-mail show them:

    JOOR orders no longer carry `start_ship_date` (absent from 25 of 25); they carry `ship_start`,
    which the contract does not know: the ship-date checks are off for this site

A required field absent from an order is already a problem row on that order (the mapper's
``payload_invalid``); here it only counts. A watched optional field warns when absent from more
than ``DRIFT_SHARE`` of a run's orders (runs of fewer than ``DRIFT_MIN_ORDERS`` orders say
nothing about a share); an unknown key warns as soon as one order carries it.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.payload import at

# An optional field absent from more than this share of a run's orders is a warning.
DRIFT_SHARE = 0.5
# A run with fewer orders says nothing about a share (a brand's first order may lack anything).
DRIFT_MIN_ORDERS = 5
# Unknown keys named per warning (the rest are counted).
KEYS_NAMED = 3


@dataclass(frozen=True)
class Expected:
    """One fact a mapper reads: its spellings (dotted paths into the order, first first), whether
    an order is unreadable without it, and what goes missing for a person when it is absent."""

    name: str
    paths: tuple[str, ...]
    required: bool = False
    effect: str = ""
    watched: bool = True  # False: often absent for good reasons (a new retailer has no ERP code yet)

    @functools.cached_property
    def keys(self) -> tuple[tuple[str, ...], ...]:
        """``paths`` split into their keys (once: every order of a run is looked at)."""
        return tuple(_split(path) for path in self.paths)


@dataclass(frozen=True)
class PayloadContract:
    """What a partner's order payload should hold, for the drift count.

    ``known`` maps where in the order (``""`` the order itself, ``"customer"`` a nested object,
    ``"items[]"`` each element of the list under ``items``) to every key the contract knows
    there, read by the mapper or not.
    """

    partner: str
    fields: tuple[Expected, ...]
    known: Mapping[str, frozenset[str]]
    # Where the order's lines are, when the partner has several spellings (JOOR): payload -> items.
    items: Callable[[Mapping[str, Any]], Any] | None = None

    def unknown_keys(self, order: Mapping[str, Any]) -> Iterable[str]:
        """Every key of ``order`` (as dotted paths) that the contract does not know."""
        # (keys() - known: the set difference in C; an order of ten lines has eleven objects to look at)
        for where, keys in self.known.items():
            if where.endswith("[]"):
                base = where[:-2]
                elements = self.items(order) if self.items is not None else _at(order, base)
                for element in elements if isinstance(elements, list) else ():
                    if element.__class__ is dict or isinstance(element, Mapping):  # (the ABC check is slow)
                        yield from (f"{where}.{k}" for k in _unknown(element, keys))
                continue
            obj = order if not where else _at(order, where)
            if isinstance(obj, Mapping):
                yield from (f"{where}.{k}" if where else str(k) for k in _unknown(obj, keys))


def _unknown(obj: Mapping[Any, Any], keys: frozenset[str]) -> list[Any]:
    """The keys of ``obj`` not in ``keys``, in ``obj``'s order."""
    if keys.issuperset(obj):  # (most objects: a membership test per key in C, nothing built)
        return []
    return [k for k in obj if k not in keys]


def _at(obj: Any, path: str) -> Any:
    return at(obj, _split(path))


@functools.lru_cache(maxsize=256)
def _split(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))  # (a tuple: the cached value is shared)


def _has(order: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> bool:
    for path in paths:
        value = at(order, path)
        if value is not None and value != "" and value != [] and value != {}:
            return True
    return False


@dataclass
class DriftCounter:
    """Counts, over one run's orders, the fields absent and the keys unknown."""

    contract: PayloadContract
    orders: int = 0
    absent: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)

    def add(self, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            return  # not an order object: the mapper's payload_invalid says so on the order
        self.orders += 1
        for expected in self.contract.fields:
            if not _has(raw, expected.keys):
                self.absent[expected.name] += 1
        unknown = set(self.contract.unknown_keys(raw))
        if unknown:
            self.unknown.update(unknown)

    def warnings(self) -> list[str]:
        """Sentences for a person; empty when the run's payloads match the contract."""
        label = self.contract.partner
        new_keys = [key for key, _ in self.unknown.most_common()]
        out: list[str] = []
        paired: set[str] = set()
        if self.orders >= DRIFT_MIN_ORDERS:
            for expected in self.contract.fields:
                missing = self.absent.get(expected.name, 0)
                if expected.required or not expected.watched or missing <= DRIFT_SHARE * self.orders:
                    continue
                spelled = " / ".join(f"`{p}`" for p in expected.paths)
                text = f"{label} orders no longer carry {spelled} (absent from {missing} of {self.orders})"
                if new_keys:
                    named = ", ".join(f"`{k}`" for k in new_keys[:KEYS_NAMED])
                    text += f"; they carry {named}, which the contract does not know"
                    paired.update(new_keys[:KEYS_NAMED])
                out.append(text + (f": {expected.effect} for this site" if expected.effect else ""))
        rest = [key for key in new_keys if key not in paired]
        if rest:
            named = ", ".join(f"`{k}` ({self.unknown[k]} of {self.orders})" for k in rest[:KEYS_NAMED])
            more = f" and {len(rest) - KEYS_NAMED} more" if len(rest) > KEYS_NAMED else ""
            out.append(
                f"{label} orders carry {named}{more}, which Bobbin's contract does not know: "
                "check whether the partner renamed a field Bobbin reads"
            )
        return out

    def summary(self) -> dict[str, Any]:
        """For the run's counts: what was absent and unknown, and the warnings."""
        found: dict[str, Any] = {}
        if self.absent:
            found["fields_absent"] = dict(self.absent)
        if self.unknown:
            found["keys_unknown"] = dict(self.unknown.most_common(10))
        warnings = self.warnings()
        if warnings:
            found["drift"] = warnings
        return found
