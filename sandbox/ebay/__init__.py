"""eBay REST Sell API emulator (see ``server.py``); ``python -m sandbox.ebay`` runs it."""

from sandbox.ebay.server import EbaySandbox, serve

__all__ = ["EbaySandbox", "serve"]
