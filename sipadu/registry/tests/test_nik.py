import datetime as dt
import io

import pytest
from django.core.management import call_command
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sipadu.registry.nik import decode_kk, decode_nik, encode_kk, encode_nik, resolve_year

TODAY = dt.date(2026, 3, 10)


def test_a_woman_born_in_1990_decodes():
    check = decode_nik("6311014107900001", today=TODAY)
    assert check.valid, check.errors
    assert (check.sex, check.date, check.serial) == ("P", dt.date(1990, 7, 1), 1)
    assert (check.province, check.kabkota, check.kecamatan) == ("63", "6311", "631101")


def test_spaces_and_dots_are_tolerated():
    assert decode_nik("6311 0141 0790 0001", today=TODAY).number == "6311014107900001"


@pytest.mark.parametrize(
    ("nik", "fragment"),
    [
        ("631101410790001", "16 angka"),
        ("63110141079000012", "16 angka"),
        ("63110141079O0001", "hanya boleh berisi angka"),
        ("6311013202900001", "bukan tanggal"),  # 32 February
        ("6311017202900001", "bukan tanggal"),  # woman, day 32
        ("6311012902010001", "bukan tanggal"),  # 29 February 2001
        ("6311010113900001", "bukan tanggal"),  # month 13
        ("6311010107900000", "0001 sampai 9999"),
        ("0011010107900001", "tidak boleh 00"),
        ("", "16 angka"),
    ],
)
def test_malformed_niks_are_invalid_with_a_reason(nik, fragment):
    check = decode_nik(nik, today=TODAY)
    assert not check.valid
    assert any(fragment in e for e in check.errors), check.errors


def test_consistency_with_sex_and_birth_date():
    assert "Jenis kelamin" in decode_nik("6311014107900001", sex="L", today=TODAY).errors[0]
    wrong = decode_nik("6311014107900001", birth_date=dt.date(1990, 7, 2), today=TODAY)
    assert "tidak sesuai NIK" in wrong.errors[0]
    assert decode_nik(
        "6311014107900001", sex="P", birth_date=dt.date(1990, 7, 1), today=TODAY
    ).valid


def test_two_digit_years_resolve_against_today():
    assert resolve_year(5, 1, 1, TODAY) == 2005
    assert resolve_year(26, 1, 1, TODAY) == 2026
    assert resolve_year(26, 1, 12, TODAY) == 1926  # December 2026 is in the future
    assert resolve_year(30, 1, 1, TODAY) == 1930
    assert resolve_year(5, 1, 1, TODAY, dt.date(1905, 1, 1)) == 1905  # a known date wins


def test_a_future_birth_date_is_refused():
    check = decode_nik("6311010107260001", today=dt.date(2026, 1, 1))  # 1 July 2026
    assert check.date == dt.date(1926, 7, 1)  # resolved to the past, hence valid
    given_future = decode_nik(
        "6311010107260001", birth_date=dt.date(2026, 7, 1), today=dt.date(2026, 1, 1)
    )
    assert any("masa depan" in e for e in given_future.errors)


def test_kk_numbers():
    assert decode_kk("6311011503150003", today=TODAY).date == dt.date(2015, 3, 15)
    assert not decode_kk("6311014503150003", today=TODAY).valid  # no +40 on KK dates
    assert not decode_kk("631101150315000", today=TODAY).valid


@pytest.mark.django_db
def test_unknown_region_prefix_is_a_warning_not_an_error():
    from sipadu.registry.nik import check_nik

    check, names = check_nik("6399994107900001")
    assert check.valid
    assert any("63.99.99" in w for w in check.warnings)
    check, names = check_nik("6311014107900001")
    assert names["kabkota"] == "Kabupaten Balangan" and not check.warnings


birth_dates = st.dates(min_value=dt.date(1927, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["L", "P"])
serials = st.integers(min_value=1, max_value=9999)


@settings(max_examples=300, deadline=None)
@given(born=birth_dates, sex=sexes, serial=serials)
def test_every_generated_nik_validates_and_decodes_back(born, sex, serial):
    nik = encode_nik("631101", born, sex, serial)
    check = decode_nik(nik, sex=sex, birth_date=born, today=TODAY)
    assert check.valid, check.errors
    assert (check.date, check.sex, check.serial) == (born, sex, serial)
    # Without the hint the century is the latest that is not in the future.
    bare = decode_nik(nik, today=TODAY)
    assert bare.valid and bare.date.replace(year=born.year) == born
    assert bare.date.year % 100 == born.year % 100 and bare.date <= TODAY


@settings(max_examples=300, deadline=None)
@given(
    born=birth_dates,
    sex=sexes,
    serial=serials,
    position=st.integers(6, 11),
    digit=st.integers(0, 9),
)
def test_corrupting_a_date_digit_is_caught_or_changes_the_date(born, sex, serial, position, digit):
    nik = encode_nik("631101", born, sex, serial)
    assume(nik[position] != str(digit))
    corrupted = nik[:position] + str(digit) + nik[position + 1 :]
    check = decode_nik(corrupted, sex=sex, birth_date=born, today=TODAY)
    # Against the person's own data the corruption is always noticed.
    assert not check.valid
    bare = decode_nik(corrupted, today=TODAY)
    assert not bare.valid or (bare.date, bare.sex) != (born, sex)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=20))
def test_arbitrary_text_never_raises(text):
    check = decode_nik(text, today=TODAY)
    assert check.valid == (not check.errors)


@settings(max_examples=100, deadline=None)
@given(issued=st.dates(min_value=dt.date(1970, 1, 1), max_value=TODAY), serial=serials)
def test_kk_round_trip(issued, serial):
    check = decode_kk(encode_kk("520272", issued, serial), today=TODAY)
    assert check.valid and check.date == issued


def _call(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("registry", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_check_nik_command_prints_what_the_number_says():
    code, out, _err = _call("check-nik", "6311014107900001")
    assert code == 0
    assert "Kabupaten Balangan" in out and "01-07-1990" in out and "Perempuan" in out


@pytest.mark.django_db
def test_check_nik_command_exits_1_on_an_invalid_number():
    code, _out, err = _call("check-nik", "6311013202900001")
    assert code == 1 and "bukan tanggal" in err
    code, _out, err = _call("check-nik", "6311014107900001", "--sex", "L")
    assert code == 1 and "Jenis kelamin" in err


@pytest.mark.django_db
def test_check_nik_command_warns_on_an_unknown_region():
    code, out, _err = _call("check-nik", "6399994107900001")
    assert code == 0 and "PERINGATAN" in out
