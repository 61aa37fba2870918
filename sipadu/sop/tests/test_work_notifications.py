"""The notifications page's "Tandai sudah dibaca" button."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sipadu.audit.models import AuditEvent
from sipadu.sop.models import Notification
from sipadu.sop.tests.runtime_support import loaded, world

__all__ = ["loaded", "world"]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_mark_read_button_marks_the_shown_notifications(world: dict[str, Any]) -> None:
    me = world["balangan"]["operator-layanan"]
    other = world["balangan"]["kasi-pelayanan"]
    now = timezone.now()
    shown = Notification.objects.create(user=me, text="Tugas terlambat", created_at=now)
    theirs = Notification.objects.create(user=other, text="Bukan milik saya", created_at=now)
    client = client_for(me)
    page = client.get(reverse("kerja:notifications")).content.decode()
    assert "Tandai sudah dibaca" in page
    assert f'name="id" value="{shown.pk}"' in page
    # Arrives after the page was shown: the button must not mark it.
    later = Notification.objects.create(user=me, text="Baru", created_at=now)
    response = client.post(
        reverse("kerja:notifications_read"), {"id": [str(shown.pk), str(theirs.pk)]}
    )
    assert response.status_code == 302 and response.url == reverse("kerja:notifications")
    assert Notification.objects.get(pk=shown.pk).read is True
    assert Notification.objects.get(pk=later.pk).read is False
    assert Notification.objects.get(pk=theirs.pk).read is False
    assert AuditEvent.objects.filter(action="sop.notification.read", actor=me).count() == 1
    after = client.get(reverse("kerja:notifications")).content.decode()
    assert "1 notifikasi ditandai sudah dibaca" in after


def test_mark_read_needs_post_and_login(world: dict[str, Any]) -> None:
    me = world["balangan"]["operator-layanan"]
    Notification.objects.create(user=me, text="x", created_at=timezone.now())
    assert client_for(me).get(reverse("kerja:notifications_read")).status_code == 405
    anonymous = Client().post(reverse("kerja:notifications_read"))
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(resolve_url(settings.LOGIN_URL))
    assert Notification.objects.filter(read=False).count() == 1


def test_odd_ids_are_ignored_not_a_server_error(world: dict[str, Any]) -> None:
    me = world["balangan"]["operator-layanan"]
    note = Notification.objects.create(user=me, text="x", created_at=timezone.now())
    response = client_for(me).post(
        reverse("kerja:notifications_read"), {"id": ["²", "9" * 30, "-1", "abc"]}
    )
    assert response.status_code == 302
    # Only odd ids were posted: nothing is marked (not "all of them" either).
    assert Notification.objects.get(pk=note.pk).read is False
