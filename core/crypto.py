"""Credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256); rotation by MultiFernet.

``BOBBIN_SECRET_KEYS`` holds one or more keys: the first encrypts, every key decrypts, and
``rotate`` re-encrypts a token under the first key (``bobbin keys rotate`` runs it over all sites).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.logging import register_secret
from core.settings import Settings, get_settings


class CredentialsError(Exception):
    pass


def _fernet(settings: Settings | None = None) -> MultiFernet:
    settings = settings or get_settings()
    keys = settings.fernet_keys()
    for key in keys:
        register_secret(key)  # never in a log line, whatever carries it
    return MultiFernet([Fernet(k) for k in keys])


def encrypt_json(data: dict[str, Any], settings: Settings | None = None) -> str:
    return _fernet(settings).encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str, settings: Settings | None = None) -> dict[str, Any]:
    try:
        return dict(json.loads(_fernet(settings).decrypt(token.encode())))
    except InvalidToken:
        raise CredentialsError(
            "the site's credentials cannot be decrypted with BOBBIN_SECRET_KEYS "
            "(was the key changed without keeping the old one for rotation?)"
        ) from None


def decrypt_credentials(token: str, settings: Settings | None = None) -> dict[str, str]:
    """A site's credentials, decrypted; each value is registered as a secret (never in a log line)."""
    creds = {str(key): str(value) for key, value in decrypt_json(token, settings).items()}
    for value in creds.values():
        register_secret(value)
    return creds


def rotate(token: str, settings: Settings | None = None) -> str:
    return _fernet(settings).rotate(token.encode()).decode()


def mask(value: str | None) -> str:
    """How a secret is shown to a person: enough to recognise it, not to use it."""
    if not value:
        return ""
    return "****" + value[-4:] if len(value) > 8 else "****"
