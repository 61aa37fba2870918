"""Template context: the current office, the user's roles there, and the main menu."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import nav


def office(request: HttpRequest) -> dict[str, Any]:
    current = getattr(request, "office", None)
    roles: list[str] = []
    user = getattr(request, "user", None)
    if current is not None and user is not None and user.is_authenticated:
        roles = list(
            user.memberships.filter(office=current, active=True).values_list(
                "role__name", flat=True
            )
        )
    return {"current_office": current, "current_roles": roles, "main_nav": nav.items_for(request)}
