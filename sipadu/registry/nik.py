"""NIK and KK number validation and decoding.

A NIK (Nomor Induk Kependudukan) has 16 digits::

    PP KK CC DDMMYY SSSS
    |  |  |  |      +-- serial 0001-9999 among people of that kecamatan and birth date
    |  |  |  +--------- birth date; women add 40 to the day (41-71)
    |  |  +------------ kecamatan of first registration
    |  +--------------- kabupaten/kota
    +------------------ province

A KK (Kartu Keluarga) number has the same region prefix, then the date the card was first
issued (DDMMYY, no +40) and a serial. A NIK keeps the kecamatan code of first registration
even after a region is split or renumbered, so an unknown region prefix is a *warning*, never
an error. The decoding itself is pure Python; :func:`region_names` looks the prefix up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

MALE = "L"
FEMALE = "P"


@dataclass
class NumberCheck:
    """What a NIK or KK number says, with the problems found (errors make it invalid)."""

    number: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    province: str = ""
    kabkota: str = ""
    kecamatan: str = ""
    date: dt.date | None = None
    sex: str = ""
    serial: int = 0

    @property
    def valid(self) -> bool:
        return not self.errors


def _digits(raw: object) -> str:
    """The number as text without spaces, dots or dashes (people type NIKs in groups)."""
    text = str(raw or "").strip()
    for sep in (" ", ".", "-", "\u00a0"):
        text = text.replace(sep, "")
    return text


def resolve_year(yy: int, day: int, month: int, today: dt.date, hint: dt.date | None = None) -> int:
    """Four-digit year for a two-digit ``yy``.

    The century of a known birth date wins; otherwise the most recent year that does not put
    the date in the future (so '05' is 2005 today, and '30' is 1930).
    """
    if hint is not None and hint.year % 100 == yy:
        return hint.year
    year = 2000 + yy
    try:
        future = dt.date(year, month, day) > today
    except ValueError:
        # 29 February of a non-leap 20yy: decide on the year alone.
        future = year > today.year
    return year - 100 if future else year


def _split(number: str, kind: str, check: NumberCheck) -> bool:
    if len(number) != 16 or not number.isdigit():
        check.errors.append(
            _("%(kind)s harus 16 angka (diterima %(n)d karakter).")
            % {"kind": kind, "n": len(number)}
            if number.isdigit() or not number
            else _("%(kind)s hanya boleh berisi angka.") % {"kind": kind}
        )
        return False
    check.province = number[:2]
    check.kabkota = number[:4]
    check.kecamatan = number[:6]
    if number[:2] == "00" or number[2:4] == "00" or number[4:6] == "00":
        check.errors.append(_("Kode wilayah %(kind)s tidak boleh 00.") % {"kind": kind})
    return True


def decode_nik(
    raw: object,
    *,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    today: dt.date | None = None,
) -> NumberCheck:
    """Decode and validate a NIK; ``sex``/``birth_date`` are checked against it when given."""
    number = _digits(raw)
    check = NumberCheck(number)
    if not _split(number, "NIK", check):
        return check
    today = today or dt.date.today()
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    check.serial = int(number[12:])
    if day > 40:
        check.sex, day = FEMALE, day - 40
    else:
        check.sex = MALE
    if not 1 <= day <= 31 or not 1 <= month <= 12:
        check.errors.append(
            _("Tanggal lahir pada NIK (%(d)02d-%(m)02d) bukan tanggal yang ada.")
            % {"d": day, "m": month}
        )
    else:
        year = resolve_year(yy, day, month, today, birth_date)
        try:
            check.date = dt.date(year, month, day)
        except ValueError:
            check.errors.append(
                _("Tanggal lahir pada NIK (%(d)02d-%(m)02d-%(y)d) bukan tanggal yang ada.")
                % {"d": day, "m": month, "y": year}
            )
        else:
            if check.date > today:
                check.errors.append(_("Tanggal lahir pada NIK ada di masa depan."))
    if check.serial == 0:
        check.errors.append(_("Nomor urut NIK harus 0001 sampai 9999."))
    if sex and check.sex and sex != check.sex:
        check.errors.append(
            _("Jenis kelamin tidak sesuai NIK (NIK menunjukkan %(sex)s).")
            % {"sex": _("perempuan") if check.sex == FEMALE else _("laki-laki")}
        )
    if birth_date and check.date and birth_date != check.date:
        check.errors.append(
            _("Tanggal lahir %(given)s tidak sesuai NIK (%(nik)s).")
            % {"given": birth_date.strftime("%d-%m-%Y"), "nik": check.date.strftime("%d-%m-%Y")}
        )
    return check


def decode_kk(raw: object, *, today: dt.date | None = None) -> NumberCheck:
    """Decode and validate a KK number (issue date DDMMYY, no +40)."""
    number = _digits(raw)
    check = NumberCheck(number)
    if not _split(number, "Nomor KK", check):
        return check
    today = today or dt.date.today()
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    check.serial = int(number[12:])
    try:
        check.date = dt.date(resolve_year(yy, day, month, today), month, day)
    except ValueError:
        check.errors.append(
            _("Tanggal terbit pada nomor KK (%(d)02d-%(m)02d) bukan tanggal yang ada.")
            % {"d": day, "m": month}
        )
    if check.serial == 0:
        check.errors.append(_("Nomor urut KK harus 0001 sampai 9999."))
    return check


def encode_nik(kecamatan_digits: str, birth_date: dt.date, sex: str, serial: int) -> str:
    """Build a NIK from its parts (used by the generator and the tests)."""
    day = birth_date.day + (40 if sex == FEMALE else 0)
    return (
        f"{kecamatan_digits}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
    )


def encode_kk(kecamatan_digits: str, issued: dt.date, serial: int) -> str:
    """Build a KK number from its parts."""
    return (
        f"{kecamatan_digits}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{serial:04d}"
    )


def region_names(check: NumberCheck) -> dict[str, str]:
    """Names of the province, kab/kota and kecamatan in the prefix; warns when unknown.

    Codes are looked up in the current Kepmendagri list; a missing one is only a warning.
    """
    from sipadu.wilayah.models import Region

    if not check.kecamatan:
        return {}
    codes = {
        "province": check.province,
        "kabkota": f"{check.province}.{check.kabkota[2:]}",
        "kecamatan": f"{check.province}.{check.kabkota[2:]}.{check.kecamatan[4:]}",
    }
    found = dict(Region.objects.filter(code__in=codes.values()).values_list("code", "name"))
    names = {}
    for level, code in codes.items():
        if code in found:
            names[level] = found[code]
    if codes["kecamatan"] not in found:
        message = _(
            "Kode wilayah %(code)s tidak ada dalam daftar wilayah saat ini (mungkin wilayah "
            "sudah dimekarkan); periksa."
        ) % {"code": codes["kecamatan"]}
        if message not in check.warnings:
            check.warnings.append(message)
    return names


def check_nik(raw: object, **kwargs: object) -> tuple[NumberCheck, dict[str, str]]:
    """Validate a NIK and look up its region names (``kwargs`` as for :func:`decode_nik`)."""
    check = decode_nik(raw, **kwargs)  # type: ignore[arg-type]
    names = region_names(check) if check.kecamatan else {}
    return check, names
