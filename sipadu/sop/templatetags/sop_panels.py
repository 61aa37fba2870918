"""``{% case_panels %}``: renders the case panels domain apps registered (sop/panels.py)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from sipadu.sop.panels import render_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def case_panels(context: Any) -> SafeString:
    """The registered panels of the case in the context (each rendered by its own template)."""
    case = context.get("case")
    request = context.get("request")
    if case is None or request is None:
        return mark_safe("")
    # Each panel is a Django template rendered with autoescaping; its output is safe HTML.
    return mark_safe(render_panels(request, case, context.get("current")))  # noqa: S308
