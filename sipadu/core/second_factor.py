"""Second factor (TOTP) for signing and admin roles.

A user who holds a role marked ``requires_second_factor`` (Kepala Dinas, who signs with TTE) or
who is staff must confirm a TOTP code after the password before any other page opens. A user with
no device yet is sent to enrol one (QR code for an authenticator app).
"""

from __future__ import annotations

from collections.abc import Callable

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from sipadu.audit.services import record_event

from .models import Membership

EXEMPT_PREFIXES = ("/otp/", "/keluar/", "/static/", "/i18n/", "/healthz")


def needs_second_factor(user: object) -> bool:
    """True for staff and for holders of a role that signs or administers."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_staff", False):
        return True
    return Membership.objects.filter(
        user=user, active=True, role__requires_second_factor=True
    ).exists()


class SecondFactorMiddleware:
    """Sends users who need a second factor to verify (or enrol) before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not user.is_verified()
            and needs_second_factor(user)
        ):
            target = "otp_verify" if confirmed_device(user) else "otp_setup"
            return redirect(f"{reverse(target)}?next={request.path}")
        return self.get_response(request)


def confirmed_device(user: object) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def passed_second_factor(user: object) -> bool:
    """True when ``user`` passed the second factor in this session (django-otp's
    ``is_verified``); False for anyone without it, e.g. a system actor."""
    check = getattr(user, "is_verified", None)
    return bool(callable(check) and check())


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label=gettext_lazy("Kode 6 angka"),
        error_messages={"invalid": gettext_lazy("Kode harus 6 angka.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.GET.get("next") or request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return reverse("home")


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for the current TOTP code of the user's confirmed device."""
    device = confirmed_device(request.user)
    if device is None:
        return redirect("otp_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            otp_login(request, device)
            record_event(request.user, "core.otp.verify", device, request=request)
            return redirect(_next_url(request))
        record_event(request.user, "core.otp.fail", device, request=request)
        form.add_error("token", _("Kode salah atau kedaluwarsa. Coba kode yang baru."))
    return render(
        request,
        "core/otp_verify.html",
        {"form": form, "next": _next_url(request)},
        status=400 if form.errors else 200,
    )


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show a QR code, confirm with the first code."""
    if confirmed_device(request.user) is not None:
        return redirect("otp_verify")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "authenticator"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            record_event(request.user, "core.otp.enrol", device, request=request)
            messages.success(request, _("Faktor kedua aktif."))
            return redirect(_next_url(request))
        form.add_error("token", _("Kode salah. Periksa jam ponsel Anda dan coba lagi."))
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(
        request,
        "core/otp_setup.html",
        {"form": form, "qr": qr, "next": _next_url(request)},
        status=400 if form.errors else 200,
    )
