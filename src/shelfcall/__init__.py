"""Shelfcall: in-store order fulfilment."""

__version__ = "0.1.0"
