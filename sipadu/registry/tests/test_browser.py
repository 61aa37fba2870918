import datetime as dt

import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_officer_searches_and_opens_a_resident(page, officer, make_person, balangan_desa):
    person = make_person(balangan_desa, full_name="Siti Nurhaliza", birth_date=dt.date(1990, 5, 17))
    page.goto("/masuk/")
    page.fill("input[name=username]", officer.username)
    page.fill("input[name=password]", "pw-test-12345")
    page.click("button[type=submit], input[type=submit]")
    page.goto("/penduduk/")
    page.fill("#id_q", "siti nurhalisa")  # a typo still finds her
    page.click("button[name=search]")
    page.wait_for_selector("#results")
    assert page.url.endswith("/penduduk/")  # nothing personal in the URL
    page.click("text=Siti Nurhaliza")
    page.wait_for_selector("text=Dokumen")
    assert page.url.endswith(f"/penduduk/{person.pk}/")
    assert person.nik in page.content()
