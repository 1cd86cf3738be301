"""Brandboom API v2 emulator (see ``server.py``); ``python -m sandbox.brandboom`` runs it."""

from sandbox.brandboom.server import BrandboomSandbox, default_seed, serve

__all__ = ["BrandboomSandbox", "default_seed", "serve"]
