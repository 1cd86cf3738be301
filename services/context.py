"""A site's context: the site, its settings parsed by its partner's model, and its partner's spec.

Built once per run (an import, a push, a flush of one site's writebacks) and handed to the work,
so nothing looks the partner or the settings up again on the way. ``open(capability)`` builds the
partner's client from the site's decrypted credentials and opens that capability on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, overload

from connectors.base import OrderSource, StatusWriter
from connectors.catalog import CatalogPusher, CustomerPusher
from connectors.inventory import Pusher
from connectors.registry import Opened, PartnerSpec, open_on, partner
from connectors.returns import ReturnsSource
from connectors.settings import SettingsError, SiteSettings, validate_settings
from core import crypto
from models import Site


class SiteError(ValueError):
    """A site cannot be created or used as asked; the message says why in words."""


def parse_settings(spec: PartnerSpec, raw: dict[str, Any] | None) -> SiteSettings:
    """A site's settings validated by its partner's model, or SiteError naming each bad field."""
    try:
        return validate_settings(spec.settings, raw, spec.label)
    except SettingsError as exc:
        raise SiteError(str(exc)) from None


@dataclass(frozen=True)
class SiteContext:
    site: Site  # loaded; read its columns only (it may be detached from its session)
    settings: SiteSettings  # an instance of spec.settings
    spec: PartnerSpec

    @classmethod
    def of(cls, site: Site) -> SiteContext:
        spec = partner(site.kind)
        return cls(site, parse_settings(spec, site.settings), spec)

    @property
    def id(self) -> int:
        return self.site.id

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def label(self) -> str:
        return self.spec.label

    def client(self) -> Any:
        """The partner's client, built from the site's decrypted credentials (core.crypto keeps
        each value out of the logs)."""
        credentials = crypto.decrypt_credentials(self.site.credentials_encrypted)
        return self.spec.client(self.site.base_url, credentials, self.settings)

    @overload
    def open(self, name: Literal["orders"]) -> OrderSource: ...
    @overload
    def open(self, name: Literal["writeback"]) -> StatusWriter: ...
    @overload
    def open(self, name: Literal["inventory"]) -> Pusher: ...
    @overload
    def open(self, name: Literal["catalog"]) -> CatalogPusher: ...
    @overload
    def open(self, name: Literal["customers"]) -> CustomerPusher: ...
    @overload
    def open(self, name: Literal["returns"]) -> ReturnsSource: ...

    def open(self, name: Opened) -> Any:
        """Open a capability of the site's partner on a new client (NotOffered when it has none;
        ValueError for one not opened on a client). The object's ``close()`` closes the client."""
        opener = self.spec.opener(name)  # asked first: a partner without it is told so, credentials or not
        return open_on(self.client(), opener, self.settings)
