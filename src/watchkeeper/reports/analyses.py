"""The latest results of the analysis kinds (``log``/``errors``, ``trend``, ``forecast``, ``slo``),
read by their measurement names; a key a result lacks is left unknown, never guessed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from watchkeeper.analytics.errors import DEFAULT_RULES, PatternRules
from watchkeeper.config.schema import Check
from watchkeeper.probes.errors import rules_of
from watchkeeper.reports.model import (
    AnalysisKind,
    ErrorFigures,
    ForecastFigures,
    SloFigures,
    TopError,
    TrendFigures,
)
from watchkeeper.results import Result
from watchkeeper.secret_rules import mask_secrets

Mask = Callable[[str], str]
"""Given user-supplied text, return it with secrets hidden."""


def analysis_kind(check: Check) -> AnalysisKind | None:
    """Given a check, return its analysis kind, or None for a check of anything else."""
    try:
        return AnalysisKind(check.kind)
    except ValueError:
        return None


def error_figures(check: Check, result: Result, mask: Mask) -> ErrorFigures:
    """Given a ``log`` or ``errors`` check and its latest result, return its error figures."""
    values = result.measurements
    top = values.get("top_errors")
    top_errors = (
        tuple(_top_error(e, mask) for e in top if isinstance(e, dict))
        if isinstance(top, list)
        else ()
    )
    # New kinds are measured by fingerprint; a person reads the kind's text where it is known.
    texts = {e.fingerprint: e.text for e in top_errors if e.text}
    window = getattr(check.spec, "window", None)
    return ErrorFigures(
        check=check.name,
        at=result.started_at,
        error_count=_int(values.get("error_count")),
        top=top_errors,
        new_types=tuple(
            texts.get(key, key) for key in (mask(str(t)) for t in _list(values.get("new_types")))
        ),
        burst=values.get("burst") is True,
        verdict=_text(values.get("verdict")),
        window=float(window) if isinstance(window, int | float) else None,
        rules=_rules(check),
    )


def _rules(check: Check) -> PatternRules:
    """Given a ``log`` or ``errors`` check, return the thresholds it judges errors by."""
    if check.errors is not None:
        return rules_of(check.errors)
    if check.log is not None:
        return PatternRules(
            recurring_over=check.log.recurring_over, burst_over=check.log.burst_over
        )
    return DEFAULT_RULES


def trend_figures(check: Check, result: Result) -> TrendFigures:
    """Given a ``trend`` check and its latest result, return its figures."""
    values = result.measurements
    return TrendFigures(
        check=check.name,
        at=result.started_at,
        change_percent=_float(values.get("change_percent")),
        current=_float(values.get("current")),
        previous=_float(values.get("previous")),
        flagged=values.get("flagged") is True,
        cv_percent=_float(values.get("cv_percent")),
        measurement=check.trend.measurement if check.trend is not None else "",
    )


def forecast_figures(check: Check, result: Result) -> ForecastFigures:
    """Given a ``forecast`` check and its latest result, return its figures."""
    values = result.measurements
    return ForecastFigures(
        check=check.name,
        at=result.started_at,
        time_to_limit=_float(values.get("time_to_limit")),
        earliest=_float(values.get("earliest")),
        latest=_float(values.get("latest")),
        outlook=_text(values.get("outlook")),
        model=_text(values.get("model")),
        accuracy_mae=_float(values.get("accuracy_mae")),
    )


def slo_figures(check: Check, result: Result) -> SloFigures:
    """Given an ``slo`` check and its latest result, return its figures."""
    values = result.measurements
    met = values.get("met")
    return SloFigures(
        check=check.name,
        at=result.started_at,
        sli=_float(values.get("sli")),
        budget_remaining=_float(values.get("budget_remaining")),
        fast_burn=values.get("fast_burn") is True,
        slow_burn=values.get("slow_burn") is True,
        met=met if isinstance(met, bool) else None,
    )


def masker(redact: Mask) -> Mask:
    """Given the config's secret redaction, return what masks echoed text: both it and a scan."""
    # The config's own secrets first: a scan's mask could split one and hide it from redaction.
    return lambda text: mask_secrets(redact(text))


def _top_error(entry: dict[str, Any], mask: Mask) -> TopError:
    return TopError(
        fingerprint=mask(str(entry.get("fingerprint", ""))),
        text=mask(str(entry.get("text", ""))),
        count=_int(entry.get("count")) or 0,
        example=mask(str(entry.get("example", ""))),
    )


def _float(value: Any) -> float | None:
    # bool is an int, but a flag is not a figure.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else ()
