"""Procedures as checklists on a schedule, and runbooks run on demand."""
