"""Shared fixtures: the seed offices, one persona per SOP role, and a Playwright browser."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sipadu.core.models import Office, User
from sipadu.core.services import ensure_office, ensure_role, grant_role

SEED_OFFICES = {
    "balangan": ("Dinas Kependudukan dan Pencatatan Sipil Kabupaten Balangan", "63.11"),
    "bima": ("Dinas Kependudukan dan Pencatatan Sipil Kota Bima", "52.72"),
    "solok": ("Dinas Kependudukan dan Pencatatan Sipil Kabupaten Solok", "13.02"),
    "palangkaraya": ("Dinas Kependudukan dan Pencatatan Sipil Kota Palangka Raya", "62.71"),
    "sumbar": ("Dinas Kependudukan dan Pencatatan Sipil Provinsi Sumatera Barat", "13"),
}


@pytest.fixture
def make_office(db: Any) -> Callable[[str], Office]:
    """Create one of the five seed offices by its short code."""

    def make(code: str = "balangan") -> Office:
        name, region = SEED_OFFICES[code]
        return ensure_office(code, name, region)

    return make


@pytest.fixture
def office(make_office: Callable[[str], Office]) -> Office:
    """Dinas Dukcapil Kabupaten Balangan (WITA)."""
    return make_office("balangan")


@pytest.fixture
def make_officer(db: Any, office: Office) -> Callable[..., User]:
    """Create a user holding ``role_code`` in an office (Balangan by default)."""

    def make(
        role_code: str,
        *,
        office_: Office | None = None,
        username: str | None = None,
        role_name: str | None = None,
        external: bool = False,
    ) -> User:
        target = office_ or office
        role = ensure_role(
            role_code, role_name or role_code.replace("-", " ").title(), external=external
        )
        user = User.objects.create_user(
            username=username or f"{target.code}-{role_code}",
            password="pw-test-12345",
        )
        grant_role(user, target, role)
        return user

    return make


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Debian's chromium driven by Playwright (skips when chromium is not installed).

    Function-scoped on purpose: Playwright's sync API keeps an asyncio loop running in this
    thread while it is open, and code that calls ``asyncio.run`` (pyHanko) must not find one
    in later tests. Django's async-safety check is relaxed only while the browser is open.
    """
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser page whose relative URLs point at the live test server."""
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()
