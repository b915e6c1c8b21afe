"""The executive summary at ``/``: one word for how things are, why, and a card per service."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchkeeper.views.uptime import WINDOWS
from watchkeeper.web.pages.formats import percent
from watchkeeper.web.pages.incidents import open_work
from watchkeeper.web.pages.render import Viewer, clock, dashboard, page

router = APIRouter()

OVERALL_TEXT = {"healthy": "Healthy", "at_risk": "At risk", "critical": "Critical"}


@router.get("/")
def summary(request: Request, who: Viewer) -> Response:
    """Show the overall state, the counts that decide it, uptime, and each service."""
    now = clock(request)
    overview = dashboard(request).overview(now.now)
    cards = [
        {
            "name": card.name,
            "state": card.overall.value,
            "state_text": OVERALL_TEXT[card.overall.value],
            "checks": card.checks,
            "failing": card.failing,
            "uptime": [(w, percent(card.uptime[w])) for w in WINDOWS],
        }
        for card in overview.services
    ]
    counts = overview.counts
    context = {
        "overall": overview.overall.value,
        "overall_text": OVERALL_TEXT[overview.overall.value],
        "reasons": overview.reasons,
        "rule": overview.rule,
        # (label, number, colour when not zero, where it links to)
        "tiles": [
            (
                "Critical or error",
                counts["critical"] + counts["error"],
                "critical",
                "/checks?state=critical,error",
            ),
            ("Warning", counts["warning"], "warning", "/checks?state=warning"),
            ("No result yet", counts["pending"], "pending", "/checks?state=pending"),
            ("Firing alerts", sum(overview.firing.values()), "critical", "/alerts"),
            ("Failed results, 24h", overview.errors_24h, "warning", "/checks"),
        ],
        "uptime": [(w, percent(overview.uptime[w])) for w in WINDOWS],
        "cards": cards,
        "work": open_work(request),
        "total": sum(counts.values()),
    }
    return page(request, "summary.html", who, context, title="Summary")
