"""Bobbin: keeps an apparel brand's ERP in step with Brandboom, JOOR, Loop Returns and eBay."""

__version__ = "0.1.0"
