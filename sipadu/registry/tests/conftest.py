"""Registry fixtures: officers of two offices, desa codes and a resident factory."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from sipadu.registry import actions
from sipadu.registry.models import Penduduk
from sipadu.registry.nik import encode_nik
from sipadu.wilayah.models import Region

_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _registry_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "sipadu.registry.tests.urls"


def first_desa(prefix: str) -> str:
    return (
        Region.objects.filter(code__startswith=prefix + ".", level=4)
        .order_by("code")
        .values_list("code", flat=True)
        .first()
    )


@pytest.fixture
def balangan_desa(db: Any) -> str:
    return first_desa("63.11")


@pytest.fixture
def solok_desa(db: Any) -> str:
    return first_desa("13.02")


@pytest.fixture
def officer(make_officer: Callable[..., Any]) -> Any:
    """An Operator SIAK of Dinas Dukcapil Balangan."""
    return make_officer("operator-siak")


@pytest.fixture
def solok_officer(make_officer: Callable[..., Any], make_office: Callable[[str], Any]) -> Any:
    return make_officer("operator-siak", office_=make_office("solok"))


@pytest.fixture
def make_person(db: Any) -> Callable[..., Penduduk]:
    """Create a resident through the action, with a NIK consistent with sex and birth date."""

    def make(
        desa: str,
        *,
        full_name: str = "Siti Aminah",
        sex: str = "P",
        birth_date: dt.date = dt.date(1990, 5, 17),
        actor: Any = None,
        **extra: Any,
    ) -> Penduduk:
        nik = encode_nik(desa.replace(".", "")[:6], birth_date, sex, next(_serial))
        data = {
            "nik": nik,
            "full_name": full_name,
            "sex": sex,
            "birth_date": birth_date,
            "desa_id": desa,
            **extra,
        }
        return actions.create_penduduk(actor, data)

    return make
