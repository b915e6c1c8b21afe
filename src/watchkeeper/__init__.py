"""Watchkeeper: run a team's maintenance guide as software."""

__version__ = "0.1.0"
