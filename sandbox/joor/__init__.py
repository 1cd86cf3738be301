"""JOOR API v2 emulator (see ``server.py``); ``python -m sandbox.joor`` runs it."""

from sandbox.joor.server import JoorSandbox, default_seed, serve

__all__ = ["JoorSandbox", "default_seed", "serve"]
