"""Per-request office: which Dinas the officer is working for, and its time zone."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import Office

SESSION_KEY = "sipadu_office_id"


def current_office(request: HttpRequest) -> Office | None:
    """The office chosen in the session, else the user's first office."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    offices = user.offices()
    chosen = request.session.get(SESSION_KEY)
    office = offices.filter(pk=chosen).first() if chosen else None
    return office or offices.first()


class OfficeMiddleware:
    """Sets ``request.office`` and shows times in that office's zone (WIB/WITA/WIT)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        office = current_office(request)
        request.office = office
        if office is not None:
            timezone.activate(office.tzinfo)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
