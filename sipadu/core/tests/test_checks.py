"""SIPADU's system checks: SITE_URL, printed in the QR code of every signed document, must be
a public https address in production (``sipadu check --deploy``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from sipadu.core.checks import check_site_url


@pytest.mark.parametrize(
    ("site_url", "expected"),
    [
        ("", "sipadu.W001"),
        ("sipadu.example.go.id", "sipadu.W001"),
        ("https://[::1", "sipadu.W001"),
        ("http://127.0.0.1:8000", "sipadu.W002"),  # the default when SIPADU_SITE_URL is unset
        ("https://localhost", "sipadu.W002"),
        ("https://sipadu.localhost", "sipadu.W002"),
        ("https://[::1]:8443", "sipadu.W002"),
        ("http://0.0.0.0:8000", "sipadu.W002"),
        ("https://127.0.1.1", "sipadu.W002"),
        ("https://192.168.1.10", "sipadu.W004"),
        ("http://10.0.0.5:8000", "sipadu.W004"),
        ("https://172.20.3.4/", "sipadu.W004"),
        ("https://169.254.10.1", "sipadu.W004"),
        ("https://[fd00::1]:8443", "sipadu.W004"),
        ("https://sipadu", "sipadu.W004"),
        ("https://sipadu.local", "sipadu.W004"),
        ("https://disdukcapil.intranet.", "sipadu.W004"),
        ("http://sipadu.example.go.id", "sipadu.W003"),
        ("https://36.66.208.10", None),
        ("https://sipadu.example.go.id", None),
        ("HTTPS://Sipadu.Example.go.id/", None),
    ],
)
def test_site_url_must_be_public_https(settings: Any, site_url: str, expected: str | None) -> None:
    settings.SITE_URL = site_url
    found = [m.id for m in check_site_url()]
    assert found == ([expected] if expected else [])


def test_the_check_runs_with_deploy_only(settings: Any) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    deploy = run_checks(include_deployment_checks=True)
    warning = next(m for m in deploy if m.id == "sipadu.W002")
    assert "127.0.0.1:8000" in warning.msg and "SIPADU_SITE_URL" in str(warning.hint)
    assert not any(m.id.startswith("sipadu.") for m in run_checks())
    settings.SITE_URL = "https://sipadu.example.go.id"
    assert not any(m.id.startswith("sipadu.") for m in run_checks(include_deployment_checks=True))
