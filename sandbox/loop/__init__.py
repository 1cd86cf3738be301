"""Loop Returns API emulator (see ``server.py``); ``python -m sandbox.loop`` runs it."""

from sandbox.loop.server import LoopSandbox, serve

__all__ = ["LoopSandbox", "serve"]
