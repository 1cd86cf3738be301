"""Bobbin: keeps an apparel brand's ERP in step with the platforms it sells through (today Brandboom and JOOR)."""

__version__ = "0.1.0"
