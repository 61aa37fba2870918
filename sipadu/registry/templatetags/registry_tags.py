"""Template helpers of the registry pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    """``mapping|get:key`` — look a key up in a dict (indicator figures by code)."""
    return mapping.get(key)
