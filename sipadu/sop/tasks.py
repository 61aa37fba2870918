"""Background jobs of the SOP runtime (Huey, via :mod:`sipadu.jobs`)."""

from __future__ import annotations

from sipadu.jobs import crontab, periodic
from sipadu.sop.actions import mark_breaches


@periodic(crontab(minute="*/5"))
def check_breaches() -> int:
    """Every five minutes: flag tasks and cases past their due time and notify (once each)."""
    return mark_breaches()
