"""The main navigation: apps register their entries here instead of editing the base template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    """One link of the main menu, shown when ``visible(request)`` is true."""

    url_name: str
    label: Any
    order: int = 50
    visible: Callable[[HttpRequest], bool] = lambda request: request.user.is_authenticated


_ITEMS: list[NavItem] = []


def register(item: NavItem) -> None:
    """Add a menu entry (called from an app's ``AppConfig.ready``)."""
    if all(existing.url_name != item.url_name for existing in _ITEMS):
        _ITEMS.append(item)


def items_for(request: HttpRequest) -> list[dict[str, Any]]:
    """The entries this user may see, in order, marking the one being viewed."""
    shown = []
    for item in sorted(_ITEMS, key=lambda i: i.order):
        if not item.visible(request):
            continue
        url = reverse(item.url_name)
        shown.append(
            {"url": url, "label": item.label, "active": request.path.startswith(url) and url != "/"}
        )
    return shown
