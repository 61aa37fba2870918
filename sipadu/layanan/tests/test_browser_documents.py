"""Browser journeys of signed documents (Playwright + chromium): the Kepala Dinas passes the
second factor and bulk-signs two requests; the citizen downloads the signed PDF from the
status page, and the verification page of its QR link confirms it (status and upload)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from sipadu.layanan import actions
from sipadu.layanan.models import IssuedDocument, RequestStatus
from sipadu.layanan.tests.conftest import claim_for
from sipadu.layanan.tests.test_flow import fresh, take, to_tte
from sipadu.sop import actions as sop

PASSWORD = "pw-test-12345"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("sipadu.layanan.tests.urls"),
]


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The device's code now (or ``steps_ahead`` periods later: still accepted, and not yet
    used by the log-in). The device is read again first: a log-in whose code crossed a period
    boundary on its way to the server moved the device's drift."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def test_kepala_dinas_bulk_signs_and_the_citizen_verifies(
    browser: Any,
    live_server: Any,
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
) -> None:
    reqs = [submit(claim_for(make_resident(full_name=n))) for n in ("Nur Aisyah", "Rizky Alif")]
    for req in reqs:
        to_tte(staff, req)
    kadis = staff["kepala-dinas"]
    kadis.set_password(PASSWORD)
    kadis.save()
    device = TOTPDevice.objects.create(user=kadis, name="hp", confirmed=True)

    # (a) The Kepala Dinas logs in, passes the second factor, signs both from /tte/.
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto("/masuk/")
    page.fill("#id_username", kadis.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/otp/verifikasi/" not in page.url:  # the test role may not force it: verify anyway
        page.goto("/otp/verifikasi/?next=/")
    page.fill("#id_token", code(device))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    page.get_by_role("navigation").get_by_role("link", name="Tanda tangan (TTE)").click()
    page.wait_for_url("**/tte/")
    for req in reqs:
        assert page.locator("#bulk-tasks tr", has_text=req.tracking_number).count() == 1
    page.check("#select-all")
    page.check("#id_confirm")
    # A wrong code first: refused, nothing signed.
    page.fill("#id_token", "000000" if code(device, 1) != "000000" else "000001")
    page.click("#bulk-sign")
    page.wait_for_selector("#token-error")
    assert not IssuedDocument.objects.exists()
    page.wait_for_timeout(2_100)  # django-otp throttles the device 1 s after a wrong code
    page.check("#select-all")
    page.check("#id_confirm")
    page.fill("#id_token", code(device, 1))
    page.click("#bulk-sign")
    summary = page.wait_for_selector("#bulk-summary")
    assert summary.get_attribute("data-signed") == "2"
    assert page.locator('tr[data-result="signed"]').count() == 2
    context.close()

    # Steps 7 and 8: printed/downloaded, handed over as softcopy.
    req = fresh(reqs[0])
    assert req.status == RequestStatus.SIGNED
    task = take(staff, req, "operator-siak")
    sop.complete(staff["operator-siak"], task)
    task = take(staff, req, "operator-layanan")
    actions.record_handover(staff["operator-layanan"], req, "softcopy")
    sop.complete(staff["operator-layanan"], task)
    issued = IssuedDocument.objects.get(request=req)

    # (b) The citizen downloads the signed PDF from the status page ...
    citizen = browser.new_context(base_url=live_server.url, locale="id-ID")
    page = citizen.new_page()
    page.set_default_timeout(30_000)
    page.goto("/layanan/status/")
    page.fill("#id_tracking_number", req.tracking_number)
    page.fill("#id_pin", reqs[0].test_pin)
    page.click("#status-form button[type=submit]")
    with page.expect_download() as download_info:
        page.click("#download")
    path = download_info.value.path()
    assert path is not None
    with open(path, "rb") as f:
        downloaded = f.read()
    assert downloaded.startswith(b"%PDF")

    # ... opens the QR link (the verification page) and checks the file there.
    page.goto(issued.verification_path)
    assert page.get_attribute("#document-status", "data-status") == "valid"
    assert page.inner_text("#doc-number") == issued.number
    assert "*" in page.inner_text("#doc-name")
    page.set_input_files(
        "#id_berkas",
        {"name": "dokumen.pdf", "mimeType": "application/pdf", "buffer": downloaded},
    )
    page.click("#verify-upload-form button[type=submit]")
    result = page.wait_for_selector("#upload-result")
    assert result.get_attribute("data-signature") in ("valid",)
    assert result.get_attribute("data-match") == "this"
    # A one-byte-changed copy is refused as altered.
    changed = bytearray(downloaded)
    at = downloaded.index(b"stream\n") + 12
    changed[at] ^= 0x01
    page.set_input_files(
        "#id_berkas",
        {"name": "ubah.pdf", "mimeType": "application/pdf", "buffer": bytes(changed)},
    )
    page.click("#verify-upload-form button[type=submit]")
    result = page.wait_for_selector("#upload-result")
    assert result.get_attribute("data-signature") == "altered"
    assert result.get_attribute("data-match") == "none"
    citizen.close()
