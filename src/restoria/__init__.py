"""Restoria: find, restore and colorize the damaged regions of photographs."""

__version__ = "0.1.0"
