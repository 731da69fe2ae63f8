"""Tonalite: a hosted business telephony platform."""

__version__ = "0.1.0"
