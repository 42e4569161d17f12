"""Geumcheon-gu network and telephony management service (core package)."""

__version__ = "0.1.0"
