"""Tests of procedures: checklists and runbooks."""
