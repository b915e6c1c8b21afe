"""Checklist runs and items, whoever created them: a procedure's schedule or an incident's
phases."""
