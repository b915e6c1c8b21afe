"""Tests of reports: gathered from a planted store, recommended actions, Markdown and HTML."""
