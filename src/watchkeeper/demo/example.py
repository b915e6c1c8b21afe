"""The names of the guides' procedures files that ``watchkeeper demo --example NAME`` runs."""

from __future__ import annotations

from enum import StrEnum


class Example(StrEnum):
    """One guide's procedures file (``watchkeeper/demo/examples/NAME.yaml``), by the guide's system."""

    META3VENTURES = "meta3ventures"
    AGENTS_BACKEND = "agents-backend"
    SUPABASE_APP = "supabase-app"
    FRAPPE_MONITORING = "frappe-monitoring"
    CONTRIBUX = "contribux"
