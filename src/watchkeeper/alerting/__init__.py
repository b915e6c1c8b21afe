"""Alerting: check results become alerts, alerts become notifications, and a durable outbox delivers them."""
