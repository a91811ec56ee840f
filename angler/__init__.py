"""Angler: a phishing-URL detector from research to production."""

__version__ = "0.1.0"
