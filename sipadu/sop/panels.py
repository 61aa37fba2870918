"""Case panels: how a domain app adds its own section to the case page of its SOP.

The case page (``kerja:case``) renders, after the current activity, every panel registered
for the case's SOP code. A panel is a template plus a function that builds its context (or
returns None to show nothing), so the runtime never imports the domain app::

    from sipadu.sop.panels import CasePanel, register

    register(CasePanel("dik-jamila-mewa", "layanan/work/panel.html", build_context, order=10))

``build_context(request, case, current_task)`` runs on every view of the page; keep it to a
few queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

ContextBuilder = Callable[[HttpRequest, Any, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class CasePanel:
    """One section of the case page for the cases of ``sop_code``."""

    sop_code: str
    template: str
    context: ContextBuilder
    order: int = 50


_PANELS: list[CasePanel] = []


def register(panel: CasePanel) -> CasePanel:
    """Add a panel (idempotent: the same template for the same SOP is registered once)."""
    for existing in list(_PANELS):
        if existing.sop_code == panel.sop_code and existing.template == panel.template:
            _PANELS.remove(existing)
    _PANELS.append(panel)
    return panel


def panels_for(sop_code: str) -> list[CasePanel]:
    """The panels of an SOP, in order."""
    return sorted((p for p in _PANELS if p.sop_code == sop_code), key=lambda p: p.order)


def render_panels(request: HttpRequest, case: Any, current: Any) -> str:
    """The HTML of every panel of the case's SOP (those whose context is not None)."""
    parts: list[str] = []
    for panel in panels_for(case.definition.code):
        context = panel.context(request, case, current)
        if context is None:
            continue
        parts.append(render_to_string(panel.template, context, request=request))
    return "".join(parts)
