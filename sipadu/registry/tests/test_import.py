import csv
import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from sipadu.audit.models import AuditEvent
from sipadu.registry import coverage, importers
from sipadu.registry.models import ImportRun, Keluarga, Penduduk
from sipadu.registry.nik import encode_kk, encode_nik
from sipadu.registry.tasks import run_import

SIAK_HEADER = [
    "NIK",
    "NO_KK",
    "NAMA_LGKP",
    "JENIS_KLMIN",
    "TMPT_LHR",
    "TGL_LHR",
    "AGAMA",
    "STATUS_KAWIN",
    "STAT_HBKEL",
    "PDDK_AKH",
    "JENIS_PKRJN",
    "GOL_DRH",
    "NAMA_LGKP_AYAH",
    "NAMA_LGKP_IBU",
    "ALAMAT",
    "NO_RT",
    "NO_RW",
    "NO_PROP",
    "NO_KAB",
    "NO_KEC",
    "NO_KEL",
    "NO_AKTA_LHR",
    "KTP_EL_REKAM",
    "KIA",
]


def person_row(
    desa,
    n,
    *,
    sex="L",
    born=dt.date(1985, 4, 2),
    name=None,
    kk_serial=None,
    hub="KEPALA KELUARGA",
    akta="AL-1",
    kawin="KAWIN",
):
    prop, kab, kec, kel = desa.split(".")
    nik = encode_nik(desa.replace(".", "")[:6], born, sex, n)
    kk = encode_kk(desa.replace(".", "")[:6], dt.date(2015, 3, 15), kk_serial or n)
    return [
        nik,
        kk,
        name or f"Warga Nomor {n}",
        "LAKI-LAKI" if sex == "L" else "PEREMPUAN",
        "Paringin",
        born.strftime("%d-%m-%Y"),
        "ISLAM",
        kawin,
        hub,
        "SLTA/SEDERAJAT",
        "PETANI/PEKEBUN",
        "O",
        "Ayah",
        "Ibu",
        "Jl. Ahmad Yani",
        "3",
        "1",
        prop,
        kab,
        kec,
        kel,
        akta,
        "SUDAH REKAM",
        "TIDAK",
    ]


def write_csv(path, header, rows, *, encoding="utf-8", delimiter=";"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return str(path)


def lines_of(result):
    return {p.line: p.reason for p in result.problems}


@pytest.fixture
def family(balangan_desa):
    """A family of three as SIAK exports it."""
    return [
        person_row(balangan_desa, 1, kk_serial=1),
        person_row(balangan_desa, 2, sex="P", born=dt.date(1988, 9, 30), kk_serial=1, hub="ISTRI"),
        person_row(
            balangan_desa,
            3,
            born=dt.date(2016, 1, 5),
            kk_serial=1,
            hub="ANAK",
            akta="-",
            kawin="BELUM KAWIN",
        ),
    ]


@pytest.mark.django_db
def test_a_siak_export_is_imported_with_families_and_coverage(tmp_path, family):
    result = importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, family))
    assert result.committed and not result.problems, result.problems
    assert (result.created, result.updated) == (3, 0)
    kk = Keluarga.objects.get()
    head = Penduduk.objects.get(relationship="kepala")
    assert kk.kepala_id == head.pk and kk.rt == "003" and kk.street == "Jl. Ahmad Yani"
    child = Penduduk.objects.get(relationship="anak")
    assert child.akta_kelahiran_no == "" and child.ktp_el_recorded is True
    assert child.name_folded == "warga nomor 3"
    assert coverage.stored() == coverage.compute(coverage.reference_date())
    assert coverage.region_figures("63.11")["akta_lahir_0_17"].denominator == 1


@pytest.mark.django_db
def test_reimport_updates_by_nik_instead_of_duplicating(tmp_path, family):
    importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, family))
    family[2][2] = "Nama Baru"
    family[2][21] = "AL-99"  # the child got an akta kelahiran
    result = importers.import_file(write_csv(tmp_path / "b.csv", SIAK_HEADER, family))
    assert (result.created, result.updated) == (0, 3)
    assert Penduduk.objects.count() == 3
    assert Penduduk.objects.get(full_name="Nama Baru").akta_kelahiran_no == "AL-99"
    assert coverage.region_figures("63.11")["akta_lahir_0_17"].numerator == 1
    assert coverage.stored() == coverage.compute(coverage.reference_date())


@pytest.mark.django_db
def test_columns_absent_from_the_file_are_left_alone(tmp_path, family):
    importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, family))
    short = [[r[0], r[2], r[3], r[5], ".".join(r[17:21])] for r in family]
    result = importers.import_file(
        write_csv(
            tmp_path / "b.csv",
            ["nik", "nama", "jenis kelamin", "tanggal lahir", "kode desa"],
            short,
        )
    )
    assert result.committed and result.updated == 3
    assert Penduduk.objects.filter(akta_kelahiran_no="AL-1").count() == 2
    assert Penduduk.objects.exclude(keluarga=None).count() == 3


@pytest.mark.django_db
def test_english_headers_commas_bom_and_accents(tmp_path, balangan_desa):
    header = [
        "National ID",
        "Full Name",
        "Sex",
        "Date of Birth",
        "Village Code",
        "Marital Status",
        "Religion",
    ]
    born = dt.date(1979, 12, 31)
    row = [
        encode_nik(balangan_desa.replace(".", "")[:6], born, "P", 7),
        "Ëndang Sérè",
        "female",
        "1979-12-31",
        balangan_desa,
        "married",
        "Katholik",
    ]
    path = write_csv(tmp_path / "en.csv", header, [row], encoding="utf-8-sig", delimiter=",")
    result = importers.import_file(path)
    assert result.committed, result.problems or result.fatal
    person = Penduduk.objects.get()
    assert person.full_name == "Ëndang Sérè" and person.name_folded == "endang sere"
    assert person.religion == "katolik" and person.marital_status == "kawin"


@pytest.mark.django_db
def test_windows_1252_files_are_read(tmp_path, family):
    family[0][2] = "José Ramé"
    path = write_csv(tmp_path / "w.csv", SIAK_HEADER, family, encoding="cp1252")
    result = importers.import_file(path)
    assert result.committed
    assert Penduduk.objects.filter(full_name="José Ramé").exists()


@pytest.mark.django_db
def test_xlsx_exports_are_read(tmp_path, family):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(SIAK_HEADER)
    for row in family:
        row = list(row)
        row[5] = dt.datetime.strptime(row[5], "%d-%m-%Y")  # a real date cell
        sheet.append(row)
    path = tmp_path / "a.xlsx"
    book.save(path)
    result = importers.import_file(str(path))
    assert result.committed and result.created == 3, result.problems


@pytest.mark.django_db
def test_a_nik_stored_as_an_excel_number_is_refused_clearly(tmp_path, family):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(SIAK_HEADER)
    row = list(family[0])
    row[0] = float(row[0])
    sheet.append(row)
    path = tmp_path / "n.xlsx"
    book.save(path)
    result = importers.import_file(str(path))
    assert not result.committed
    assert "format kolom sebagai teks" in result.problems[0].reason


@pytest.mark.django_db
def test_bad_rows_are_reported_by_line_and_nothing_is_kept(tmp_path, family, balangan_desa):
    bad_nik = person_row(balangan_desa, 10)
    bad_nik[0] = bad_nik[0][:15]
    bad_date = person_row(balangan_desa, 11)
    bad_date[5] = "31-02-1990"
    unknown_desa = person_row(balangan_desa, 12)
    unknown_desa[20] = "9999"
    wrong_sex = person_row(balangan_desa, 13)
    wrong_sex[3] = "PEREMPUAN"
    bad_kk = person_row(balangan_desa, 14)
    bad_kk[1] = "12345"
    unknown_religion = person_row(balangan_desa, 15)
    unknown_religion[6] = "JEDI"
    duplicate = list(family[0])
    rows = [
        *family,
        bad_nik,
        bad_date,
        unknown_desa,
        wrong_sex,
        bad_kk,
        unknown_religion,
        duplicate,
    ]
    result = importers.import_file(write_csv(tmp_path / "bad.csv", SIAK_HEADER, rows))
    problems = lines_of(result)
    assert not result.committed
    assert "16 angka" in problems[5]
    assert "bukan tanggal" in problems[6]
    assert "tidak dikenal" in problems[7]
    assert "Jenis kelamin tidak sesuai" in problems[8]
    assert "Nomor KK" in problems[9]
    assert "Agama 'JEDI'" in problems[10]
    assert "baris 2" in problems[11]
    assert Penduduk.objects.count() == 0 and Keluarga.objects.count() == 0
    assert coverage.stored() == {}


@pytest.mark.django_db
def test_partial_keeps_the_good_rows(tmp_path, family, balangan_desa):
    bad = person_row(balangan_desa, 10)
    bad[5] = "kemarin"
    result = importers.import_file(
        write_csv(tmp_path / "p.csv", SIAK_HEADER, [*family, bad]), partial=True
    )
    assert result.committed and result.created == 3 and result.rejected == 1
    assert "bukan tanggal" in lines_of(result)[5]
    assert coverage.stored() == coverage.compute(coverage.reference_date())


@pytest.mark.django_db
def test_duplicates_are_found_across_batches(tmp_path, family, monkeypatch):
    monkeypatch.setattr(importers, "BATCH_SIZE", 2)
    rows = [*family, family[0]]
    result = importers.import_file(
        write_csv(tmp_path / "d.csv", SIAK_HEADER, rows),
        run=ImportRun.objects.create(filename="d.csv"),
        partial=True,
    )
    assert lines_of(result) == {5: "NIK sama dengan baris 2 dalam berkas ini (duplikat)."}
    assert Penduduk.objects.count() == 3


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "Berkas kosong"),
        (b"NIK;NAMA;JENIS_KLMIN;TGL_LHR;NO_PROP;NO_KAB;NO_KEC;NO_KEL\r\n", "tidak berisi baris"),
        (b"nomor;orang;tanggal\r\n1;2;3\r\n", "Kolom wajib tidak ditemukan: nik, full_name"),
        (b"NIK;NAMA;NAMA_LGKP;JK;TGL_LHR;KODE_DESA\r\n", "sama-sama berarti"),
        (b"NIK;NAMA\x81\x8d;JK\r\n", "Pengodean berkas tidak dikenali"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "XLS lama"),
        (b"PK\x03\x04truncated zip", "XLSX rusak"),
    ],
)
@pytest.mark.django_db
def test_unreadable_files_are_rejected_with_a_clear_message(tmp_path, content, fragment):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    result = importers.import_file(str(path))
    assert not result.committed and fragment in result.fatal, result.fatal


@pytest.mark.django_db
def test_a_truncated_csv_is_reported(tmp_path, family):
    path = write_csv(tmp_path / "t.csv", SIAK_HEADER, family)
    file = tmp_path / "t.csv"
    data = file.read_bytes()
    file.write_bytes(data[: len(data) - 40])  # cut in the middle of the last row
    result = importers.import_file(path)
    assert not result.committed
    assert "terpotong" in lines_of(result)[4]
    file.write_bytes(data + b'"6311012345678901;unterminated')
    result = importers.import_file(path)
    assert not result.committed and "terpotong" in result.fatal


@pytest.mark.django_db
def test_a_truncated_xlsx_is_reported(tmp_path, family):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(SIAK_HEADER)
    for _ in range(50):
        for row in family:
            sheet.append(row)
    path = tmp_path / "t.xlsx"
    book.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    result = importers.import_file(str(path))
    assert not result.committed and "XLSX rusak" in result.fatal


@pytest.mark.django_db
def test_rows_outside_the_office_region_are_refused(tmp_path, family, solok_desa, office):
    outsider = person_row(solok_desa, 20)
    result = importers.import_file(
        write_csv(tmp_path / "o.csv", SIAK_HEADER, [*family, outsider]), office=office, partial=True
    )
    assert "di luar wilayah kantor" in lines_of(result)[5]
    assert Penduduk.objects.count() == 3


@pytest.mark.django_db
def test_command_line_import_shows_progress_and_writes_the_error_file(
    tmp_path, family, balangan_desa
):
    bad = person_row(balangan_desa, 9)
    bad[0] = "63110"
    path = write_csv(tmp_path / "c.csv", SIAK_HEADER, [*family, bad])
    out, err = io.StringIO(), io.StringIO()
    errors = tmp_path / "errors.csv"
    with pytest.raises(SystemExit) as exc:
        call_command("registry", "import", path, "--errors", str(errors), stdout=out, stderr=err)
    assert exc.value.code == 1
    assert "100.0%" in err.getvalue() and "baris" in err.getvalue()
    assert Penduduk.objects.count() == 0
    report = errors.read_text(encoding="utf-8-sig")
    assert "5;nik;" in report and bad[0] not in report.replace("63110;", "")
    call_command("registry", "import", path, "--partial", stdout=out, stderr=err)
    assert Penduduk.objects.count() == 3
    assert "3 penduduk baru" in out.getvalue()
    assert not ImportRun.objects.filter(status="done").first().upload  # handled: deleted


@pytest.mark.django_db
def test_command_line_import_of_a_missing_file_is_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="tidak dapat dibuka"):
        call_command("registry", "import", "/nonexistent/file.csv")


@pytest.mark.django_db
def test_web_import_runs_as_a_job_and_reports(
    client, officer, tmp_path, family, balangan_desa, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    bad = person_row(balangan_desa, 8)
    bad[5] = "99-99-9999"
    write_csv(tmp_path / "w.csv", SIAK_HEADER, [*family, bad])
    upload = SimpleUploadedFile(
        "siak.csv", (tmp_path / "w.csv").read_bytes(), content_type="text/csv"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:import"), {"file": upload, "partial": "on"})
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE and run.rows_created == 3
    assert run.rows_rejected == 1 and not run.upload
    page = client.get(response["Location"])
    assert b"3 penduduk baru" in page.content and b"ditolak" in page.content
    fragment = client.get(reverse("registry:import_progress", args=[run.pk]))
    assert b"100%" in fragment.content and b"hx-trigger" not in fragment.content
    errors = client.get(reverse("registry:import_errors", args=[run.pk]))
    body = b"".join(errors.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[1].startswith("5;tanggal_lahir;")
    assert AuditEvent.objects.filter(action="registry.import.apply").exists()


@pytest.mark.django_db
def test_web_import_progress_is_polled_while_pending(client, officer):
    client.force_login(officer)
    run = ImportRun.objects.create(office=officer.offices().first(), filename="x.csv")
    importers.publish_progress(run.pk, 5000, 0.42)
    fragment = client.get(reverse("registry:import_progress", args=[run.pk]))
    assert b'hx-trigger="every 1s"' in fragment.content and b"42%" in fragment.content


@pytest.mark.django_db
def test_web_import_refuses_other_formats(client, officer):
    client.force_login(officer)
    upload = SimpleUploadedFile("foto.jpg", b"\xff\xd8", content_type="image/jpeg")
    response = client.post(reverse("registry:import"), {"file": upload})
    assert response.status_code == 400 and b"CSV atau XLSX" in response.content
    assert ImportRun.objects.count() == 0


@pytest.mark.django_db
def test_a_crashed_job_keeps_the_upload(tmp_path, monkeypatch, family):
    from django.core.files.base import ContentFile

    run = ImportRun(filename="a.csv")
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([SIAK_HEADER, *family])
    run.upload.save("a.csv", ContentFile(buffer.getvalue().encode()), save=False)
    run.save()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("sipadu.registry.tasks.import_file", boom)
    run = run_import(run)
    assert run.status == ImportRun.Status.FAILED and run.upload
    assert zipfile  # imported for the xlsx tests


def penduduk_indexes():
    from django.db import connection

    with connection.cursor() as cursor:
        return sorted(connection.introspection.get_constraints(cursor, "registry_penduduk").keys())


@pytest.mark.django_db
def test_the_reader_process_gives_the_same_outcome(tmp_path, family, balangan_desa, monkeypatch):
    """Big files are checked in a forked reader process: same rows, problems and coverage."""
    monkeypatch.setattr(importers, "PIPELINE_MIN_BYTES", 0)
    monkeypatch.setattr(importers, "BATCH_SIZE", 2)
    bad = person_row(balangan_desa, 10)
    bad[5] = "kemarin"
    rows = [*family, bad, family[1]]
    path = write_csv(tmp_path / "p.csv", SIAK_HEADER, rows)
    result = importers.import_file(path, partial=True)
    assert result.committed and (result.created, result.updated) == (3, 0)
    assert lines_of(result) == {
        5: lines_of(result)[5],
        6: "NIK sama dengan baris 3 dalam berkas ini (duplikat).",
    }
    assert "bukan tanggal" in lines_of(result)[5]
    assert Keluarga.objects.get().kepala.relationship == "kepala"
    assert coverage.stored() == coverage.compute(coverage.reference_date())
    family[2][21] = "AL-7"
    result = importers.import_file(write_csv(tmp_path / "q.csv", SIAK_HEADER, family))
    assert result.committed and (result.created, result.updated) == (0, 3)
    assert coverage.stored() == coverage.compute(coverage.reference_date())


def many_rows(desa, count):
    """``count`` one-person families, with a bad date on row 4 and on the last row, the
    second-to-last row repeating row 2's NIK (so problems fall in both halves), and streets
    on two lines (quoted) around the middle of the file."""
    rows = [person_row(desa, n, kk_serial=n) for n in range(1, count + 1)]
    rows[3][5] = "kemarin"  # line 5
    rows[-1][5] = "31-02-1990"
    rows[-2] = list(rows[1])  # line 3's resident again
    for row in rows[15:25]:  # quoted fields with line breaks around the middle
        row[14] = "Jl. Ahmad Yani\nGang 2"
    return rows


@pytest.mark.django_db
def test_two_reader_processes_give_the_same_outcome_as_one(tmp_path, balangan_desa, monkeypatch):
    """A big CSV is split between two reader processes: rows, line numbers of the problems
    and coverage are those of a single reader."""
    rows = many_rows(balangan_desa, 40)
    path = write_csv(tmp_path / "p.csv", SIAK_HEADER, rows)
    monkeypatch.setattr(importers, "BATCH_SIZE", 3)
    single = importers.import_file(path, partial=True)
    assert single.committed and single.created == 37
    expected = lines_of(single)
    assert set(expected) == {5, 50, 51}  # ten streets take two lines each
    Penduduk.objects.all().delete()
    Keluarga.objects.all().delete()
    coverage.recompute()

    monkeypatch.setattr(importers, "PIPELINE_MIN_BYTES", 0)
    monkeypatch.setattr(importers, "SPLIT_MIN_BYTES", 0)
    seen_plans = []
    real_plans = importers.reader_plans
    monkeypatch.setattr(
        importers,
        "reader_plans",
        lambda plan: seen_plans.append(real_plans(plan)) or seen_plans[-1],
    )
    split = importers.import_file(path, partial=True)
    assert [p.span is not None for p in seen_plans[0]] == [True, True]
    assert split.committed and (split.created, split.rows_total) == (37, 40)
    assert lines_of(split) == expected
    assert coverage.stored() == coverage.compute(coverage.reference_date())


def test_csv_spans_cut_at_line_starts_and_count_lines(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"A;B\r\n" + b"".join(b"%d;x\r\n" % n for n in range(2, 12)))
    spans = importers.csv_spans(str(path), "utf-8", 2)
    assert spans is not None and len(spans) == 2
    data = path.read_bytes()
    (s1, e1, before1), (s2, e2, before2) = spans
    assert (s1, e1, e2) == (len(b"A;B\r\n"), s2, len(data))
    assert data[s2 - 1 : s2] == b"\n" and before1 == 1
    # the second stretch starts at the line whose first field is its line number
    assert data[s2:].split(b";", 1)[0] == str(before2 + 1).encode()


def test_csv_spans_move_a_cut_out_of_a_quoted_field(tmp_path):
    # The middle of the file falls inside a quoted field with line breaks.
    body = b"".join(b"%d;x\r\n" % n for n in range(2, 6))
    quoted = b'6;"a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nj\r\nk\r\nl\r\nm"\r\n'
    tail = b"".join(b"%d;x\r\n" % n for n in range(19, 23))
    path = tmp_path / "q.csv"
    path.write_bytes(b"A;B\r\n" + body + quoted + tail)
    spans = importers.csv_spans(str(path), "utf-8", 2)
    assert spans is not None
    (_s1, cut, _b1), (_s2, _e2, before2) = spans
    data = path.read_bytes()
    assert cut == len(b"A;B\r\n" + body + quoted)  # after the quoted record, not inside it
    assert data[cut:].split(b";", 1)[0] == str(before2 + 1).encode()


@pytest.mark.parametrize("content", [b"A;B\r" + b"1;x\r" * 20, b"A;B\r\n1;x\r\n"])
def test_csv_spans_leave_files_they_cannot_cut_to_one_reader(tmp_path, content):
    path = tmp_path / "q.csv"
    path.write_bytes(content)
    assert importers.csv_spans(str(path), "utf-8", 2) is None
    assert importers.csv_spans(str(path), "utf-16", 2) is None


@pytest.mark.django_db
@pytest.mark.parametrize("split", [False, True])
def test_a_broken_file_in_the_reader_process_is_a_file_error(tmp_path, family, monkeypatch, split):
    monkeypatch.setattr(importers, "PIPELINE_MIN_BYTES", 0)
    if split:  # the second of two readers meets the broken line
        monkeypatch.setattr(importers, "SPLIT_MIN_BYTES", 0)
    path = write_csv(tmp_path / "t.csv", SIAK_HEADER, family)
    with open(path, "ab") as handle:
        handle.write(b'"6311012345678901;unterminated')
    assert importers.csv_spans(path, "utf-8", 2) is not None  # two stretches
    result = importers.import_file(path)
    assert not result.committed and "terpotong" in result.fatal
    assert Penduduk.objects.count() == 0


@pytest.mark.django_db
def test_reimport_keeps_history_of_changed_residents_only(tmp_path, family):
    from sipadu.registry.models import PendudukChange

    importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, family))
    assert PendudukChange.objects.count() == 0
    family[2][2] = "Nama Baru"
    family[2][21] = "AL-99"
    result = importers.import_file(write_csv(tmp_path / "b.csv", SIAK_HEADER, family))
    assert result.updated == 3
    change = PendudukChange.objects.get()
    assert change.action == "import" and change.penduduk.full_name == "Nama Baru"
    assert change.changes["full_name"] == ["Warga Nomor 3", "Nama Baru"]
    assert change.changes["akta_kelahiran_no"] == ["", "AL-99"]
    assert set(change.changes) == {"full_name", "name_folded", "akta_kelahiran_no"}


@pytest.mark.django_db
def test_search_indexes_survive_a_first_load_and_a_rolled_back_one(tmp_path, family):
    before = penduduk_indexes()
    bad = list(family[0])
    bad[5] = "kemarin"
    result = importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, [*family, bad]))
    assert not result.committed and penduduk_indexes() == before
    result = importers.import_file(write_csv(tmp_path / "b.csv", SIAK_HEADER, family))
    assert result.committed and penduduk_indexes() == before


@given(
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31)),
    ref=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 1)),
    alive=st.booleans(),
    single=st.booleans(),
    flags=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_state_key_counts_agree_with_per_resident_contributions(born, ref, alive, single, flags):
    """Imports count residents by state key; that must equal coverage.contributions()."""
    row = {
        "desa_id": "63.11.01.2001",
        "birth_date": born,
        "marital_status": "belum_kawin" if single else "kawin",
        "is_alive": alive,
        "akta_kelahiran_no": "AL" if flags[0] else "",
        "kia": flags[1],
        "ktp_el_recorded": flags[2],
        "keluarga_id": "6311011503150001" if flags[3] else None,
        "akta_kematian_no": "AK" if flags[4] else "",
    }
    bounds = coverage.AgeBounds.at(ref)
    key = coverage.state_key_of(row, bounds)
    assert coverage.key_contributions(key, bounds) == coverage.contributions(row, ref)


def keluarga_indexes():
    from django.db import connection

    with connection.cursor() as cursor:
        return sorted(connection.introspection.get_constraints(cursor, "registry_keluarga").keys())


@pytest.mark.django_db
def test_a_first_load_checks_references_once_and_keeps_nothing_when_one_is_broken(
    tmp_path, family, monkeypatch
):
    """With foreign keys off for a first load, the final check is what stops a bad reference.

    Inside the test's transaction the pragma cannot change, but Django's foreign keys are
    deferred: the dangling KK survives until the importer's own check, as with the pragma off.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the first-load path is SQLite's")
    monkeypatch.setattr(importers, "_foreign_keys_off_for_first_load", lambda: True)
    # A mistake of ours: residents written, their families not.
    monkeypatch.setattr(importers.BatchWriter, "_write_families", lambda self, batch, ids: None)
    before = (penduduk_indexes(), keluarga_indexes())
    result = importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, family))
    assert not result.committed and "3 rujukan" in result.fatal
    assert (result.created, result.updated) == (0, 0)
    assert Penduduk.objects.count() == 0 and Keluarga.objects.count() == 0
    assert (penduduk_indexes(), keluarga_indexes()) == before
    assert coverage.stored() == {}


@pytest.mark.django_db
def test_a_first_load_with_references_checked_at_the_end_keeps_everything(
    tmp_path, family, balangan_desa, monkeypatch
):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the first-load path is SQLite's")
    monkeypatch.setattr(importers, "_foreign_keys_off_for_first_load", lambda: True)
    monkeypatch.setattr(importers, "BATCH_SIZE", 2)
    before = (penduduk_indexes(), keluarga_indexes())
    rows = [*family, person_row(balangan_desa, 1, kk_serial=1)]  # line 5 repeats line 2
    result = importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, rows), partial=True)
    assert result.committed and (result.created, result.updated) == (3, 0)
    assert lines_of(result) == {5: "NIK sama dengan baris 2 dalam berkas ini (duplikat)."}
    assert Keluarga.objects.get().kepala.relationship == "kepala"
    assert (penduduk_indexes(), keluarga_indexes()) == before
    assert coverage.stored() == coverage.compute(coverage.reference_date())


@pytest.mark.django_db(transaction=True)
def test_foreign_keys_are_off_only_for_a_first_load_outside_a_transaction():
    from django.db import connection, transaction

    def foreign_keys() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            return cursor.fetchone()[0]

    if connection.vendor != "sqlite":
        assert importers._foreign_keys_off_for_first_load() is False
        return
    with transaction.atomic():
        assert importers._foreign_keys_off_for_first_load() is False
        assert foreign_keys() == 1
    assert importers._foreign_keys_off_for_first_load() is True
    assert foreign_keys() == 0
    connection.enable_constraint_checking()
    assert foreign_keys() == 1


@pytest.mark.django_db
def test_a_first_load_stores_missing_values_as_null_and_flags_as_booleans(
    tmp_path, family, balangan_desa
):
    """A first load binds "" and 1/0 instead of None and bools (cheaper for sqlite3); what is
    stored is the same as any other import's: NULL for a missing KK, date or head."""
    from django.db import connection

    orphan = person_row(balangan_desa, 4, kk_serial=2, hub="ANAK")  # a KK without its head
    no_kk = person_row(balangan_desa, 5)
    no_kk[1] = ""
    result = importers.import_file(
        write_csv(tmp_path / "a.csv", SIAK_HEADER, [*family, orphan, no_kk])
    )
    assert result.committed and not result.problems, result.problems
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT no_kk IS NULL, death_date IS NULL, akta_kelahiran_date IS NULL, "
            "ktp_el_recorded, kia, is_alive FROM registry_penduduk ORDER BY source_line"
        )
        stored = cursor.fetchall()
        cursor.execute("SELECT COUNT(*) FROM registry_keluarga WHERE kepala_id IS NULL")
        headless = cursor.fetchone()[0]
    assert [tuple(bool(v) for v in row[:3]) for row in stored] == [(False, True, True)] * 4 + [
        (True, True, True)
    ]
    assert {tuple(bool(v) for v in row[3:]) for row in stored} == {(True, False, True)}
    assert headless == 1
    assert Penduduk.objects.filter(keluarga__isnull=True).get().full_name == "Warga Nomor 5"
    assert Keluarga.objects.get(kepala__isnull=True).members.get().full_name == "Warga Nomor 4"


@pytest.mark.parametrize(("compact", "no_kk", "flag"), [(False, None, True), (True, "", 1)])
def test_the_checker_writes_compact_rows_only_when_the_plan_says_so(compact, no_kk, flag):
    desa = "63.11.01.2001"
    row = person_row(desa, 1)
    row[1] = ""
    today = dt.date(2026, 1, 1)
    plan = importers.Plan(
        "",
        "csv",
        "utf-8",
        importers.map_columns(SIAK_HEADER),
        {desa},
        None,
        coverage.AgeBounds.at(today),
        today,
        10,
        compact=compact,
    )
    checked = importers.RowChecker(plan).check(row, 2, "0" * 32)
    at = importers._AT
    assert checked[at["keluarga_id"]] == no_kk and checked[at["death_date"]] == no_kk
    assert type(checked[at["keluarga_id"]]) is type(no_kk)
    assert checked[at["ktp_el_recorded"]] == flag and type(checked[at["is_alive"]]) is type(flag)


@pytest.mark.django_db(transaction=True)
def test_an_import_leaves_the_checkpoint_to_a_background_thread_then_restores_it():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("a setting of SQLite connections")

    def autocheckpoint() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            return cursor.fetchone()[0]

    before = autocheckpoint()
    assert before > 0
    with importers._bulk_settings():
        assert autocheckpoint() == 0
    assert autocheckpoint() == before


def wal_database(path, rows: int):
    """A WAL database whose log holds ``rows`` rows that were never copied back."""
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO t VALUES (?)", ((f"{i:0200d}",) for i in range(rows)))
    db.execute("COMMIT")
    return db


def test_a_big_write_ahead_log_is_copied_back_in_a_background_thread(tmp_path):
    path = str(tmp_path / "big.sqlite3")
    db = wal_database(path, 20_000)  # about 4.5 MB of log
    try:
        assert tmp_path.joinpath("big.sqlite3").stat().st_size < 100_000
        thread = importers.checkpoint_in_background(path, 1_000_000)
        assert thread is not None
        importers.wait_for_checkpoints()
        assert not thread.is_alive()
        assert tmp_path.joinpath("big.sqlite3").stat().st_size > 4_000_000
        assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 20_000
    finally:
        db.close()


def test_a_small_write_ahead_log_waits_for_sqlites_own_checkpoint(tmp_path):
    path = str(tmp_path / "small.sqlite3")
    db = wal_database(path, 100)
    try:
        assert importers.checkpoint_in_background(path, 1_000_000) is None
        assert importers.checkpoint_in_background(str(tmp_path / "none.sqlite3"), 0) is None
        assert tmp_path.joinpath("small.sqlite3").stat().st_size < 100_000
    finally:
        db.close()


@pytest.mark.parametrize("span", [False, True])
def test_lines_are_split_as_the_csv_module_reads_them(tmp_path, span):
    """Plain lines are split at the delimiter, quoted ones parsed as CSV: values and line
    numbers are what the csv module gives, whatever the line ends and quoting."""
    body = (
        b"1;plain;x\r\n"
        b'2;"quoted; with delimiter";y\n'
        b"\r\n"  # a blank line is skipped
        b'3;"two\r\nlines";z\r\n'
        b'4;"say ""hi""";w\r'  # a lone carriage return ends a line too
        b"5;;\r\n"
        b'"6";"";"a ""b"""\n'
        b"7;tail;end"  # no line end at all
    )
    path = tmp_path / "m.csv"
    path.write_bytes(b"A;B;C\r\n" + body)
    with open(path, newline="", encoding="utf-8") as handle:
        expected_reader = csv.reader(handle, delimiter=";", strict=True)
        next(expected_reader)
        expected = [(expected_reader.line_num, values) for values in expected_reader if any(values)]
    assert [v[0] for _line, v in expected] == ["1", "2", "3", "4", "5", "6", "7"]
    if span:
        spans = importers.csv_spans(str(path), "utf-8", 2)
        assert spans is not None
        got = []
        for stretch in spans:
            _header, rows, _fraction = importers.read_csv(str(path), "utf-8", stretch)
            got.extend(rows)
    else:
        header, rows, _fraction = importers.read_csv(str(path), "utf-8")
        assert header == ["A", "B", "C"]
        got = list(rows)
    assert got == expected


def test_an_unclosed_quote_is_reported_at_its_line(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b'A;B\n1;x\n2;y\n3;"never closed\n4;z\n')
    _header, rows, _fraction = importers.read_csv(str(path), "utf-8")
    with pytest.raises(importers.FileError, match="Baris 4 "):
        list(rows)


def test_new_keys_are_unique_ascending_version_7_uuids():
    import uuid

    keys = importers._uuid_hexes(40_000)  # more than the 14-bit counter holds
    assert len(set(keys)) == 40_000 and keys == sorted(keys)
    for key in keys[::997]:
        parsed = uuid.UUID(key)
        assert len(key) == 32 and parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert importers._uuid_hexes(0) == []
    # the last 48 bits are random: two calls do not share them
    assert {k[-12:] for k in importers._uuid_hexes(100)}.isdisjoint(k[-12:] for k in keys)


def test_the_garbage_collector_is_paused_during_an_import_only():
    import gc

    assert gc.isenabled()
    with importers.gc_paused():
        assert not gc.isenabled()
        with importers.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner pause leaves the outer one alone
    assert gc.isenabled()


@pytest.mark.django_db
def test_dropped_indexes_are_rebuilt_with_a_small_sort_cache(tmp_path, family, monkeypatch):
    import contextlib

    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's sorter")

    def cache_size(cursor) -> int:
        cursor.execute("PRAGMA cache_size")
        return cursor.fetchone()[0]

    real = importers._sort_cache
    during = []

    @contextlib.contextmanager
    def recording(cursor):
        with real(cursor):
            during.append(cache_size(cursor))
            yield

    monkeypatch.setattr(importers, "_sort_cache", recording)
    with connection.cursor() as cursor:
        before = cache_size(cursor)
    result = importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, family))
    assert result.committed and during == [-importers._SORT_CACHE_KIB]
    with connection.cursor() as cursor:
        assert cache_size(cursor) == before != -importers._SORT_CACHE_KIB


@pytest.mark.django_db
@pytest.mark.parametrize("run_state", ["saved", "missing", "none"])
def test_a_first_load_checks_the_import_it_points_to(tmp_path, family, monkeypatch, run_state):
    """The residents' reference to their import is checked as one value on a first load: an
    import run that is not in the database stops the import like any broken reference; an
    import without a run leaves the reference empty."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the first-load path is SQLite's")
    monkeypatch.setattr(importers, "_foreign_keys_off_for_first_load", lambda: True)
    run = None if run_state == "none" else ImportRun(filename="a.csv")
    if run_state == "saved":
        run.save()
    result = importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, family), run=run)
    if run_state == "missing":
        assert not result.committed and "3 rujukan" in result.fatal
        assert Penduduk.objects.count() == 0
    else:
        assert result.committed
        stored = set(Penduduk.objects.values_list("source_import", flat=True))
        assert stored == {run.pk if run else None}
