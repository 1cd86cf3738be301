"""The sandbox's API keys: the one place they are defined.

``bobbin sandbox`` serves with them and ``bobbin run`` creates its demo site with them, so the two
always agree. They are demo values, published here on purpose: the sandbox holds sample data only.
Like Brandboom's own keys they are 32 uppercase hex characters. ``SANDBOX_PUBLIC_KEY`` /
``SANDBOX_SECRET_KEY`` in the environment replace them (e.g. to rehearse a key change).
"""

from __future__ import annotations

import os

DEMO_PUBLIC_KEY = "0618FD296943B46A5005CAC312B593AF"
DEMO_SECRET_KEY = "CD247BA100C395BC3A4280D9BFBD3EBE"


def sandbox_keys() -> tuple[str, str]:
    """(public key, secret key): the environment's, else the demo constants."""
    return (
        os.environ.get("SANDBOX_PUBLIC_KEY") or DEMO_PUBLIC_KEY,
        os.environ.get("SANDBOX_SECRET_KEY") or DEMO_SECRET_KEY,
    )


# The JOOR sandbox's v2 API token (JOOR's integration manager issues one per account).
DEMO_JOOR_TOKEN = "harbor-demo-joor-token-5b1f0c7e"


def joor_token() -> str:
    """The JOOR sandbox's token: ``SANDBOX_JOOR_TOKEN``, else the demo one."""
    return os.environ.get("SANDBOX_JOOR_TOKEN") or DEMO_JOOR_TOKEN


def are_demo_keys(public_key: str, secret_key: str) -> bool:
    return (public_key, secret_key) == (DEMO_PUBLIC_KEY, DEMO_SECRET_KEY)
