"""The ``watchkeeper`` command: thin wrappers over the config, engine, store, alerting and server."""

from watchkeeper.cli import alerts, checks, runbooks, serving, users
from watchkeeper.cli.common import app, main

__all__ = ["alerts", "app", "checks", "main", "runbooks", "serving", "users"]
