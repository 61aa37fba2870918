import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from sipadu.audit.models import AuditEvent
from sipadu.core.models import Role

pytestmark = pytest.mark.django_db


def _code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@pytest.fixture
def kadis(make_officer):
    user = make_officer("kepala-dinas")
    Role.objects.filter(code="kepala-dinas").update(requires_second_factor=True)
    return user


def test_signing_role_must_enrol_then_verify(client, kadis):
    client.force_login(kadis)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("otp_setup") in response["Location"]
    page = client.get(reverse("otp_setup"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=kadis)
    bad = client.post(reverse("otp_setup"), {"token": "000000"})
    assert bad.status_code == 400 and "Kode salah" in bad.content.decode()
    device.refresh_from_db()
    device.throttle_reset()  # a failure throttles the next try for a second; the user waits
    ok = client.post(reverse("otp_setup"), {"token": _code(device), "next": "/"})
    assert ok.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert AuditEvent.objects.filter(action="core.otp.enrol").count() == 1


def test_enrolled_user_is_asked_for_a_code_at_each_login(client, kadis):
    device = TOTPDevice.objects.create(user=kadis, name="app", confirmed=True)
    client.force_login(kadis)
    response = client.get(reverse("home"))
    assert reverse("otp_verify") in response["Location"]
    not_digits = client.post(reverse("otp_verify"), {"token": "abc"})
    assert not_digits.status_code == 400 and "6 angka" in not_digits.content.decode()
    evil = client.post(
        reverse("otp_verify") + "?next=https://evil.example/", {"token": _code(device)}
    )
    assert evil["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_officers_without_signing_roles_need_no_second_factor(client, make_officer):
    client.force_login(make_officer("operator-layanan"))
    assert client.get(reverse("home")).status_code == 200
