"""Home page, office switcher and health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .middleware import SESSION_KEY


@login_required
def home(request: HttpRequest) -> HttpResponse:
    current = getattr(request, "office", None)
    others = request.user.offices().exclude(pk=current.pk) if current else []
    return render(request, "core/home.html", {"other_offices": others})


@login_required
@require_POST
def choose_office(request: HttpRequest) -> HttpResponse:
    """Switch the office the officer works for (only offices where he holds a role)."""
    chosen = request.POST.get("office", "")
    if chosen.isdigit() and request.user.offices().filter(pk=int(chosen)).exists():
        request.session[SESSION_KEY] = int(chosen)
    return redirect("home")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
