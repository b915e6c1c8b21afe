"""Incidents: severities with SLAs, a lifecycle with a timeline, escalation, phase checklists, post-mortems."""
