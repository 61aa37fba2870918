"""Browser journey: an officer chats with the service through the WhatsApp simulator page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sipadu.core.models import User
from sipadu.layanan.catalogue import sync_catalogue
from sipadu.messaging.models import InboundMessage
from sipadu.messaging.tests.test_simulator import sim_urls, simulator_on  # noqa: F401 (fixtures)
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI
from sipadu.sop.definitions_sync import sync_definitions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_citizen_chat_reaches_the_document_menu(
    simulator_on: FakeCloudAPI,  # noqa: F811
    page: Any,
    make_officer: Callable[..., User],
) -> None:
    # The apply flow lists the catalogue and the offices that run the Dik Jamila SOP; an earlier
    # transactional test's flush may have emptied both.
    sync_catalogue()
    sync_definitions()
    make_officer("operator-layanan", username="petugas-wa")
    page.goto("/masuk/")
    page.fill("#id_username", "petugas-wa")
    page.fill("#id_password", "pw-test-12345")
    page.click("button[type=submit]")
    page.goto("/simulator-wa/")
    transcript = page.locator("#wa-transcript")
    for text, expected in [
        ("halo", "Ajukan dokumen"),
        ("1", "Akta Kelahiran"),
        ("akta lahir", "Mohon kirim NIK"),
    ]:
        page.fill("input[name=text]", text)
        page.press("input[name=text]", "Enter")
        page.wait_for_function(
            "([sel, want]) => document.querySelector(sel).innerText.includes(want)",
            arg=["#wa-transcript", expected],
        )
    assert "Anda memilih *Akta Kelahiran*" in transcript.inner_text()
    # Every message typed went through the signed webhook and was stored once.
    assert InboundMessage.objects.filter(type="text").count() == 3
