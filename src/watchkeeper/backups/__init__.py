"""Backups: take, catalogue, prune and restore-test them."""
