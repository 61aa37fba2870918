"""Import of SIAK / Buku Induk Penduduk exports (CSV or XLSX), streamed and batched.

The file is read row by row (``csv`` reader, openpyxl ``read_only``), each row is checked and
turned into the model's columns, and every batch is written with one upsert by NIK
(``INSERT … ON CONFLICT (nik) DO UPDATE``, which SQLite and PostgreSQL both speak), so a
re-import updates people instead of duplicating them. Columns absent from the file are left
as they are on update. The whole import is one transaction: with rejected rows and without
``partial`` it is rolled back, so nothing is half-imported. Coverage counters move by the
difference each row makes, like any other action.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sipadu.audit.services import record_event
from sipadu.wilayah.models import Region
from sipadu.wilayah.services import normalise_code

from . import coverage
from .models import (
    BloodType,
    Education,
    ImportRun,
    MaritalStatus,
    Nationality,
    Penduduk,
    Relationship,
    Religion,
    Sex,
)
from .names import fold_name, phonetic_key
from .nik import decode_kk, decode_nik

BATCH_SIZE = 5000


class FileError(Exception):
    """The file as a whole cannot be read (format, encoding, columns, truncation)."""


@functools.lru_cache(maxsize=4096)
def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold_name(text))


def header_key(text: object) -> str:
    """'Tgl. Lahir', 'TGL_LHR ', 'tgl lahir' -> 'tgllahir': case, space, punctuation blind."""
    # Coded values repeat on every row (ISLAM, KAWIN…): the cache keeps this cheap.
    return _key(str(text or ""))


# Accepted column names per field (compared after header_key); docs/registry.md lists them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "nik": (
        "nik",
        "nomorindukkependudukan",
        "noinduk",
        "nationalid",
        "nationalidnumber",
        "idnumber",
    ),
    "keluarga_id": (
        "nokk",
        "nomorkk",
        "kk",
        "nokartukeluarga",
        "nomorkartukeluarga",
        "familycardnumber",
        "familycardno",
        "kknumber",
    ),
    "full_name": ("nama", "namalengkap", "namalgkp", "name", "fullname"),
    "sex": ("jeniskelamin", "jenisklmin", "jk", "jeniskel", "kelamin", "sex", "gender", "lp"),
    "birth_place": (
        "tempatlahir",
        "tmptlhr",
        "tmptlahir",
        "tmplahir",
        "placeofbirth",
        "birthplace",
    ),
    "birth_date": (
        "tanggallahir",
        "tgllahir",
        "tgllhr",
        "tanggallhr",
        "dateofbirth",
        "birthdate",
        "dob",
    ),
    "religion": ("agama", "religion"),
    "marital_status": (
        "statuskawin",
        "statusperkawinan",
        "statkwn",
        "stskawin",
        "kawin",
        "maritalstatus",
    ),
    "relationship": (
        "hubungan",
        "shdk",
        "stathbkel",
        "hubungankeluarga",
        "statushubungandalamkeluarga",
        "hubungandalamkeluarga",
        "relationship",
        "relationtohead",
    ),
    "education": ("pendidikan", "pendidikanterakhir", "pddkakh", "education"),
    "occupation": ("pekerjaan", "jenispekerjaan", "jenispkrjn", "occupation", "job"),
    "blood_type": ("golongandarah", "goldarah", "goldrh", "bloodtype"),
    "nationality": ("kewarganegaraan", "warganegara", "citizenship", "nationality"),
    "father_name": ("namaayah", "namalgkpayah", "ayah", "fathername", "father"),
    "mother_name": ("namaibu", "namalgkpibu", "ibu", "mothername", "mother"),
    "is_alive": ("statushidup", "hidup", "alive", "statuskematian", "meninggal"),
    "death_date": (
        "tanggalkematian",
        "tglkematian",
        "tglmati",
        "tanggalwafat",
        "dateofdeath",
        "deathdate",
    ),
    "street": ("alamat", "address", "street", "jalan"),
    "rt": ("rt", "nort"),
    "rw": ("rw", "norw"),
    "desa_code": (
        "kodedesa",
        "kodekelurahan",
        "kodedesakelurahan",
        "kodedesakel",
        "kodewilayah",
        "kodewil",
        "villagecode",
        "desacode",
        "regioncode",
    ),
    "no_prop": ("noprop", "kodeprop", "kodeprov", "kodeprovinsi", "provincecode"),
    "no_kab": ("nokab", "kodekab", "kodekabupaten", "kodekabkota", "regencycode"),
    "no_kec": ("nokec", "kodekec", "kodekecamatan", "districtcode"),
    "no_kel": ("nokel", "nodesa", "kodekel", "kodedesapart", "villagepart"),
    "akta_kelahiran_no": (
        "noaktalahir",
        "noaktalhr",
        "noaktakelahiran",
        "aktakelahiran",
        "aktalahir",
        "nomoraktakelahiran",
        "birthcertificate",
        "birthcertificateno",
        "birthcertificatenumber",
    ),
    "akta_kelahiran_date": (
        "tglaktalahir",
        "tanggalaktalahir",
        "tanggalaktakelahiran",
        "birthcertificatedate",
    ),
    "ktp_el_recorded": (
        "ktpelrekam",
        "rekamktpel",
        "statusrekam",
        "statusrekamktp",
        "statusrekamktpel",
        "ktpel",
        "ektp",
        "ktpelrecorded",
        "idcardrecorded",
    ),
    "ktp_el_printed": (
        "ktpelcetak",
        "cetakktpel",
        "statuscetak",
        "statuscetakktpel",
        "ktpelprinted",
        "idcardprinted",
    ),
    "kia": ("kia", "memilikikia", "punyakia", "statuskia", "nokia", "haskia", "childidcard"),
    "akta_kematian_no": (
        "noaktakematian",
        "aktakematian",
        "noaktamati",
        "deathcertificate",
        "deathcertificateno",
    ),
    "akta_perkawinan_no": (
        "noaktaperkawinan",
        "noaktakawin",
        "aktaperkawinan",
        "aktakawin",
        "marriagecertificate",
        "marriagecertificateno",
    ),
    "akta_perceraian_no": (
        "noaktaperceraian",
        "noaktacerai",
        "aktaperceraian",
        "aktacerai",
        "divorcecertificate",
        "divorcecertificateno",
    ),
}
ALIASES = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
REQUIRED = ("nik", "full_name", "sex", "birth_date")
DESA_PARTS = ("no_prop", "no_kab", "no_kec", "no_kel")

# Coded values, compared after header_key (so 'LAKI-LAKI', 'Laki laki' and 'laki2' agree).
_SEX = {
    "l": Sex.MALE,
    "lk": Sex.MALE,
    "lakilaki": Sex.MALE,
    "laki": Sex.MALE,
    "laki2": Sex.MALE,
    "pria": Sex.MALE,
    "m": Sex.MALE,
    "male": Sex.MALE,
    "1": Sex.MALE,
    "p": Sex.FEMALE,
    "pr": Sex.FEMALE,
    "perempuan": Sex.FEMALE,
    "wanita": Sex.FEMALE,
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "2": Sex.FEMALE,
}
_RELIGION = {
    "islam": Religion.ISLAM,
    "1": Religion.ISLAM,
    "kristen": Religion.KRISTEN,
    "protestan": Religion.KRISTEN,
    "2": Religion.KRISTEN,
    "katolik": Religion.KATOLIK,
    "katholik": Religion.KATOLIK,
    "3": Religion.KATOLIK,
    "hindu": Religion.HINDU,
    "4": Religion.HINDU,
    "budha": Religion.BUDDHA,
    "buddha": Religion.BUDDHA,
    "5": Religion.BUDDHA,
    "konghucu": Religion.KONGHUCU,
    "khonghucu": Religion.KONGHUCU,
    "konghuchu": Religion.KONGHUCU,
    "6": Religion.KONGHUCU,
    "kepercayaan": Religion.KEPERCAYAAN,
    "kepercayaanterhadaptuhanyme": Religion.KEPERCAYAAN,
    "kepercayaanterhadaptuhanyangmahaesa": Religion.KEPERCAYAAN,
    "7": Religion.KEPERCAYAAN,
    "lainnya": Religion.KEPERCAYAAN,
}
_MARITAL = {
    "belumkawin": MaritalStatus.BELUM_KAWIN,
    "1": MaritalStatus.BELUM_KAWIN,
    "single": MaritalStatus.BELUM_KAWIN,
    "kawin": MaritalStatus.KAWIN,
    "2": MaritalStatus.KAWIN,
    "kawintercatat": MaritalStatus.KAWIN,
    "kawinbelumtercatat": MaritalStatus.KAWIN,
    "married": MaritalStatus.KAWIN,
    "ceraihidup": MaritalStatus.CERAI_HIDUP,
    "3": MaritalStatus.CERAI_HIDUP,
    "divorced": MaritalStatus.CERAI_HIDUP,
    "ceraimati": MaritalStatus.CERAI_MATI,
    "4": MaritalStatus.CERAI_MATI,
    "widowed": MaritalStatus.CERAI_MATI,
}
_RELATIONSHIP = {
    "kepalakeluarga": Relationship.KEPALA,
    "kepala": Relationship.KEPALA,
    "1": Relationship.KEPALA,
    "head": Relationship.KEPALA,
    "suami": Relationship.SUAMI,
    "2": Relationship.SUAMI,
    "husband": Relationship.SUAMI,
    "istri": Relationship.ISTRI,
    "isteri": Relationship.ISTRI,
    "3": Relationship.ISTRI,
    "wife": Relationship.ISTRI,
    "anak": Relationship.ANAK,
    "4": Relationship.ANAK,
    "child": Relationship.ANAK,
    "menantu": Relationship.MENANTU,
    "5": Relationship.MENANTU,
    "cucu": Relationship.CUCU,
    "6": Relationship.CUCU,
    "orangtua": Relationship.ORANG_TUA,
    "7": Relationship.ORANG_TUA,
    "parent": Relationship.ORANG_TUA,
    "mertua": Relationship.MERTUA,
    "8": Relationship.MERTUA,
    "famililain": Relationship.FAMILI_LAIN,
    "9": Relationship.FAMILI_LAIN,
    "pembantu": Relationship.PEMBANTU,
    "10": Relationship.PEMBANTU,
    "lainnya": Relationship.LAINNYA,
    "11": Relationship.LAINNYA,
    "other": Relationship.LAINNYA,
}
_EDUCATION = {
    "tidakbelumsekolah": Education.TIDAK_SEKOLAH,
    "tidaksekolah": Education.TIDAK_SEKOLAH,
    "belumsekolah": Education.TIDAK_SEKOLAH,
    "1": Education.TIDAK_SEKOLAH,
    "belumtamatsdsederajat": Education.BELUM_TAMAT_SD,
    "belumtamatsd": Education.BELUM_TAMAT_SD,
    "2": Education.BELUM_TAMAT_SD,
    "tamatsdsederajat": Education.SD,
    "tamatsd": Education.SD,
    "sd": Education.SD,
    "3": Education.SD,
    "sltpsederajat": Education.SLTP,
    "sltp": Education.SLTP,
    "smp": Education.SLTP,
    "4": Education.SLTP,
    "sltasederajat": Education.SLTA,
    "slta": Education.SLTA,
    "sma": Education.SLTA,
    "smk": Education.SLTA,
    "5": Education.SLTA,
    "diplomaiii": Education.D1_D2,
    "d1d2": Education.D1_D2,
    "diplomai": Education.D1_D2,
    "diplomaii": Education.D1_D2,
    "d1": Education.D1_D2,
    "d2": Education.D1_D2,
    "6": Education.D1_D2,
    "akademidiplomaiiismuda": Education.D3,
    "akademidiplomaiiisarjanamuda": Education.D3,
    "d3": Education.D3,
    "7": Education.D3,
    "diplomaivstratai": Education.S1,
    "s1": Education.S1,
    "d4": Education.S1,
    "8": Education.S1,
    "strataii": Education.S2,
    "s2": Education.S2,
    "9": Education.S2,
    "strataiii": Education.S3,
    "s3": Education.S3,
    "10": Education.S3,
}
_BLOOD = {
    "a": BloodType.A,
    "a+": BloodType.A,
    "a-": BloodType.A,
    "b": BloodType.B,
    "ab": BloodType.AB,
    "o": BloodType.O,
    "tidaktahu": BloodType.UNKNOWN,
    "tidakdiketahui": BloodType.UNKNOWN,
    "": BloodType.UNKNOWN,
    "13": BloodType.UNKNOWN,
}
_NATIONALITY = {
    "wni": Nationality.WNI,
    "indonesia": Nationality.WNI,
    "1": Nationality.WNI,
    "wna": Nationality.WNA,
    "asing": Nationality.WNA,
    "2": Nationality.WNA,
}
_YES = {
    "y",
    "ya",
    "yes",
    "true",
    "1",
    "sudah",
    "ada",
    "punya",
    "memiliki",
    "sudahrekam",
    "rekam",
    "sudahcetak",
    "cetak",
    "v",
    "x",
}
_NO = {
    "",
    "n",
    "t",
    "tidak",
    "no",
    "false",
    "0",
    "belum",
    "tidakada",
    "belumrekam",
    "belumcetak",
    "belummemiliki",
    "-",
}
_ALIVE = {"hidup", "y", "ya", "1", "true", "alive", "yes"}
_DEAD = {
    "mati",
    "meninggal",
    "wafat",
    "meninggaldunia",
    "n",
    "t",
    "tidak",
    "0",
    "false",
    "dead",
    "deceased",
    "no",
    "2",
}

_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%y", "%Y%m%d")


@dataclass
class RowProblem:
    """One rejected row (or file problem when ``line`` is 0)."""

    line: int
    column: str
    reason: str


@dataclass
class ImportResult:
    """What an import did; ``committed`` is False when it was rolled back."""

    rows_total: int = 0
    created: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    committed: bool = False
    fatal: str = ""

    @property
    def rejected(self) -> int:
        return len({p.line for p in self.problems if p.line})


class RowError(Exception):
    """A value of a row cannot be accepted."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


# -- reading -----------------------------------------------------------------------------------


def sniff_kind(path: str) -> str:
    """'xlsx' or 'csv' from the first bytes, with a clear error for other formats."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head:
        raise FileError(_("Berkas kosong."))
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileError(_("Format XLS lama tidak didukung: simpan sebagai XLSX atau CSV."))
    return "csv"


def detect_encoding(path: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252; error otherwise."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                if b"\x00" in chunk:
                    raise FileError(_("Berkas bukan teks CSV (berisi byte nol)."))
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        handle.seek(0)
        fallback = codecs.getincrementaldecoder("cp1252")()
        try:
            while chunk := handle.read(1 << 20):
                fallback.decode(chunk)
        except UnicodeDecodeError as exc:
            raise FileError(
                _(
                    "Pengodean berkas tidak dikenali (bukan UTF-8 maupun Windows-1252): "
                    "simpan ulang sebagai CSV UTF-8."
                )
            ) from exc
        return "cp1252"


class _CountingReader(io.RawIOBase):
    """Wraps a binary file to report how many bytes have been read (progress)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def read_csv(path: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]], Callable[[], float]]:
    """Header, (line, values) rows and a progress fraction function for a CSV file."""
    import os

    encoding = detect_encoding(path)
    size = os.path.getsize(path) or 1
    raw = _CountingReader(open(path, "rb"))  # noqa: SIM115 - closed by the row iterator
    text = io.TextIOWrapper(io.BufferedReader(raw, 1 << 16), encoding=encoding, newline="")
    sample = text.readline()
    if not sample.strip():
        text.close()
        raise FileError(_("Berkas kosong atau baris pertama (judul kolom) kosong."))
    delimiter = max((";", ",", "\t", "|"), key=sample.count)
    reader = csv.reader(itertools_chain([sample], text), delimiter=delimiter, strict=True)
    header = next(reader)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                yield reader.line_num, values
        except csv.Error as exc:
            raise FileError(
                _(
                    "Baris %(line)d tidak dapat dibaca (%(error)s): berkas terpotong atau tanda "
                    "kutip tidak ditutup."
                )
                % {"line": reader.line_num + 1, "error": exc}
            ) from exc
        finally:
            text.close()

    return header, rows(), lambda: raw.count / size


def itertools_chain(first: list[str], rest: IO[str]) -> Iterator[str]:
    yield from first
    yield from rest


def read_xlsx(path: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]], Callable[[], float]]:
    """Header, rows and progress for the first sheet of an XLSX workbook (read-only mode)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not the path: uploads are stored under any suffix.
    handle = open(path, "rb")  # noqa: SIM115 - closed with the workbook
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        OSError,
        ValueError,
        IndexError,
        EOFError,
    ) as exc:
        handle.close()
        raise FileError(_("Berkas XLSX rusak atau terpotong: tidak dapat dibuka.")) from exc
    total = sheet.max_row or 0
    state = {"line": 0}
    iterator = sheet.iter_rows(values_only=True)
    header: list[str] = []
    try:
        for values in iterator:
            state["line"] += 1
            if any(v not in (None, "") for v in values):
                header = [str(v or "") for v in values]
                break
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        workbook.close()
        handle.close()
        raise FileError(_("Berkas XLSX rusak atau terpotong.")) from exc
    if not header:
        workbook.close()
        handle.close()
        raise FileError(_("Berkas kosong."))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for values in iterator:
                state["line"] += 1
                if all(v in (None, "") for v in values):
                    continue
                yield state["line"], list(values)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise FileError(
                _("Berkas XLSX rusak atau terpotong setelah baris %d.") % state["line"]
            ) from exc
        finally:
            workbook.close()
            handle.close()

    return header, rows(), lambda: state["line"] / total if total else 0.0


# -- checking ---------------------------------------------------------------------------------


@dataclass
class Layout:
    """Which column of the file holds which field."""

    index: dict[str, int]
    width: int
    ignored: list[str]
    # CSV rows must have every column (a short row means a truncated file); XLSX rows may
    # stop at their last filled cell.
    strict_width: bool = True


def map_columns(header: list[str]) -> Layout:
    """Match the header to fields; a clear error when required columns are missing."""
    index: dict[str, int] = {}
    ignored = []
    for position, title in enumerate(header):
        key = header_key(title)
        name = ALIASES.get(key)
        if name is None:
            if key:
                ignored.append(str(title).strip())
            continue
        if name in index:
            raise FileError(
                _("Kolom '%(a)s' dan '%(b)s' sama-sama berarti %(field)s.")
                % {"a": header[index[name]].strip(), "b": str(title).strip(), "field": name}
            )
        index[name] = position
    missing = [name for name in REQUIRED if name not in index]
    if "desa_code" not in index and not all(p in index for p in DESA_PARTS):
        missing.append("kode_desa")
    if missing:
        raise FileError(
            _(
                "Kolom wajib tidak ditemukan: %(missing)s. Judul kolom yang terbaca: %(seen)s. "
                "Lihat docs/registry.md untuk nama kolom yang diterima."
            )
            % {
                "missing": ", ".join(missing),
                "seen": ", ".join(str(h).strip() for h in header if str(h).strip()) or "-",
            }
        )
    return Layout(index, len(header), ignored)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value: Any, column: str) -> dt.date:
    """A date from an XLSX cell or text in the usual Indonesian and ISO forms."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    # Fast paths for the two shapes exports use (ISO and DD-MM-YYYY); strptime is slow.
    try:
        if len(text) == 10 and text[4] == "-":
            return dt.date.fromisoformat(text)
        if len(text) == 10 and text[2] in "-/." and text[5] == text[2]:
            return dt.date(int(text[6:]), int(text[3:5]), int(text[:2]))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            parsed = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if fmt == "%d-%m-%y" and parsed > dt.date.today():
            parsed = parsed.replace(year=parsed.year - 100)
        return parsed
    raise RowError(
        column,
        _("'%(value)s' bukan tanggal yang sah (contoh: 31-12-1990 atau 1990-12-31).")
        % {"value": text[:20]},
    )


def _number(value: Any, column: str, label: Any) -> str:
    """A NIK or KK number from text or an XLSX cell (floats lose digits: refuse them)."""
    if isinstance(value, float) and not value.is_integer():
        raise RowError(column, _("%s tersimpan sebagai angka desimal di Excel.") % label)
    # Excel keeps 15 significant digits: a 16-digit number typed into a number cell has
    # already lost its last digit, whatever the cell shows now.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 1e15:
        raise RowError(
            column,
            _(
                "%s tersimpan sebagai angka di Excel dan kehilangan digit: "
                "format kolom sebagai teks."
            )
            % label,
        )
    return _text(value).replace(" ", "").replace("'", "")


# Labels are lazy: they are only translated when a row is rejected.
_SEX_LABEL = gettext_lazy("Jenis kelamin")
_KK_LABEL = gettext_lazy("Nomor KK")
_CODED_FIELDS: tuple[tuple[str, dict[str, Any], Any], ...] = (
    ("religion", _RELIGION, gettext_lazy("Agama")),
    ("marital_status", _MARITAL, gettext_lazy("Status perkawinan")),
    ("relationship", _RELATIONSHIP, gettext_lazy("Hubungan keluarga")),
    ("education", _EDUCATION, gettext_lazy("Pendidikan")),
    ("blood_type", _BLOOD, gettext_lazy("Golongan darah")),
    ("nationality", _NATIONALITY, gettext_lazy("Kewarganegaraan")),
)


def _coded(value: Any, table: dict[str, Any], column: str, label: Any) -> str:
    key = header_key(_text(value))
    if key in table:
        return table[key]
    raise RowError(
        column,
        _("%(label)s '%(value)s' tidak dikenal.") % {"label": label, "value": _text(value)[:30]},
    )


def _flag(value: Any, column: str) -> bool:
    text = _text(value)
    key = header_key(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    if key.isdigit():  # a card number counts as having the card
        return True
    raise RowError(column, _("Nilai '%s' tidak dikenal (gunakan Ya/Tidak).") % text[:20])


class RowChecker:
    """Turns one row of the file into model column values, or raises RowError."""

    def __init__(self, layout: Layout, desa_codes: set[str], allowed_prefix: str | None) -> None:
        self.layout = layout
        self.desa_codes = desa_codes
        self.allowed_prefix = allowed_prefix
        self.today = dt.date.today()

    def get(self, values: list[Any], name: str) -> Any:
        position = self.layout.index.get(name)
        if position is None or position >= len(values):
            return None
        return values[position]

    def desa(self, values: list[Any]) -> str:
        if "desa_code" in self.layout.index:
            raw = _text(self.get(values, "desa_code"))
            code = normalise_code(raw.replace(" ", ""))
        else:
            parts = [_text(self.get(values, p)) for p in DESA_PARTS]
            widths = (2, 2, 2, 4)
            if not all(p.isdigit() for p in parts):
                raw = ".".join(parts)
                code = raw
            else:
                code = ".".join(p.zfill(w)[-w:] for p, w in zip(parts, widths, strict=True))
                raw = code
        if not raw:
            raise RowError("kode_desa", _("Kode desa/kelurahan kosong."))
        if code not in self.desa_codes:
            raise RowError("kode_desa", _("Kode desa/kelurahan %s tidak dikenal.") % raw[:20])
        if self.allowed_prefix and not code.startswith(self.allowed_prefix):
            raise RowError("kode_desa", _("Desa/kelurahan %s di luar wilayah kantor Anda.") % code)
        return code

    def check(self, values: list[Any]) -> dict[str, Any]:
        if self.layout.strict_width and len(values) < self.layout.width:
            raise RowError(
                "",
                _("Baris hanya berisi %(n)d dari %(m)d kolom (berkas terpotong?).")
                % {"n": len(values), "m": self.layout.width},
            )
        if len(values) > self.layout.width and any(_text(v) for v in values[self.layout.width :]):
            raise RowError(
                "",
                _("Baris berisi %(n)d kolom, lebih dari %(m)d kolom judul.")
                % {"n": len(values), "m": self.layout.width},
            )
        row: dict[str, Any] = {}
        sex = _coded(self.get(values, "sex"), _SEX, "jenis_kelamin", _SEX_LABEL)
        birth_date = parse_date(self.get(values, "birth_date"), "tanggal_lahir")
        if birth_date > self.today:
            raise RowError("tanggal_lahir", _("Tanggal lahir di masa depan."))
        nik = _number(self.get(values, "nik"), "nik", "NIK")
        check = decode_nik(nik, sex=sex, birth_date=birth_date, today=self.today)
        if not check.valid:
            raise RowError("nik", " ".join(check.errors))
        name = _text(self.get(values, "full_name"))
        if not name:
            raise RowError("nama", _("Nama kosong."))
        row.update(
            nik=check.number,
            sex=sex,
            birth_date=birth_date,
            full_name=name[:150],
            name_folded=fold_name(name)[:150],
            name_key=phonetic_key(name)[:150],
            desa_id=self.desa(values),
        )
        index = self.layout.index
        if "keluarga_id" in index:
            raw_kk = _number(self.get(values, "keluarga_id"), "no_kk", _KK_LABEL)
            if raw_kk:
                kk = decode_kk(raw_kk, today=self.today)
                if not kk.valid:
                    raise RowError("no_kk", " ".join(kk.errors))
                row["keluarga_id"] = kk.number
            else:
                row["keluarga_id"] = None
        for name_, table, label in _CODED_FIELDS:
            if name_ in index:
                value = self.get(values, name_)
                if _text(value) or name_ == "blood_type":
                    row[name_] = _coded(value, table, name_, label)
                elif name_ == "marital_status":
                    row[name_] = MaritalStatus.BELUM_KAWIN
                elif name_ == "nationality":
                    row[name_] = Nationality.WNI
                else:
                    row[name_] = ""
        for name_, limit in (
            ("birth_place", 100),
            ("occupation", 100),
            ("father_name", 150),
            ("mother_name", 150),
            ("street", 200),
            ("rt", 3),
            ("rw", 3),
            ("akta_kelahiran_no", 40),
            ("akta_kematian_no", 40),
            ("akta_perkawinan_no", 40),
            ("akta_perceraian_no", 40),
        ):
            if name_ in index:
                text = _text(self.get(values, name_))
                if text in {"-", "0"} and name_.endswith("_no"):
                    text = ""
                if name_ in {"rt", "rw"} and text.isdigit():
                    text = text.zfill(3)[-3:]
                if len(text) > limit:
                    raise RowError(name_, _("Isian lebih dari %d karakter.") % limit)
                row[name_] = text
        for name_ in ("ktp_el_recorded", "ktp_el_printed", "kia"):
            if name_ in index:
                row[name_] = _flag(self.get(values, name_), name_)
        for name_ in ("akta_kelahiran_date", "death_date"):
            if name_ in index:
                value = self.get(values, name_)
                row[name_] = (
                    parse_date(value, name_) if _text(value) or isinstance(value, dt.date) else None
                )
        if "is_alive" in index:
            status = header_key(_text(self.get(values, "is_alive")))
            if status in _ALIVE or status == "":
                row["is_alive"] = True
            elif status in _DEAD:
                row["is_alive"] = False
            else:
                raise RowError(
                    "status_hidup",
                    _("Status hidup '%s' tidak dikenal.")
                    % _text(self.get(values, "is_alive"))[:20],
                )
        if row.get("death_date") and "is_alive" not in index:
            row["is_alive"] = False
        if row.get("death_date") and (
            row["death_date"] < birth_date or row["death_date"] > self.today
        ):
            raise RowError("tanggal_kematian", _("Tanggal kematian tidak mungkin."))
        if row.get("akta_kematian_no") and row.get("is_alive", True):
            raise RowError("akta_kematian", _("Ada akta kematian tetapi status masih hidup."))
        return row


# -- writing ----------------------------------------------------------------------------------

# Penduduk columns the importer may write; the others keep their defaults or current values.
_PENDUDUK_COLUMNS = (
    "nik",
    "keluarga_id",
    "full_name",
    "name_folded",
    "name_key",
    "sex",
    "birth_place",
    "birth_date",
    "religion",
    "marital_status",
    "relationship",
    "education",
    "occupation",
    "blood_type",
    "nationality",
    "father_name",
    "mother_name",
    "is_alive",
    "death_date",
    "desa_id",
    "akta_kelahiran_no",
    "akta_kelahiran_date",
    "ktp_el_recorded",
    "ktp_el_printed",
    "kia",
    "akta_kematian_no",
    "akta_perkawinan_no",
    "akta_perceraian_no",
)
_DEFAULTS: dict[str, Any] = {
    "keluarga_id": None,
    "birth_place": "",
    "religion": "",
    "marital_status": MaritalStatus.BELUM_KAWIN,
    "relationship": "",
    "education": "",
    "occupation": "",
    "blood_type": "",
    "nationality": Nationality.WNI,
    "father_name": "",
    "mother_name": "",
    "is_alive": True,
    "death_date": None,
    "akta_kelahiran_no": "",
    "akta_kelahiran_date": None,
    "ktp_el_recorded": False,
    "ktp_el_printed": False,
    "kia": False,
    "akta_kematian_no": "",
    "akta_perkawinan_no": "",
    "akta_perceraian_no": "",
}
_DB_COLUMN = {"keluarga_id": "no_kk"}


class BatchWriter:
    """Upserts batches of checked rows, moving coverage counters by each row's difference."""

    def __init__(self, run: ImportRun | None, present: set[str]) -> None:
        self.run = run
        self.run_key = str(run.pk) if run else None
        # Inserts write every column (absent ones get their defaults); updates only those in
        # the file, plus what is derived from them.
        self.columns = list(_PENDUDUK_COLUMNS)
        updated_fields = [
            c
            for c in _PENDUDUK_COLUMNS
            if c in present
            or c in {"name_folded", "name_key", "desa_id", "full_name", "sex", "birth_date"}
            or (c == "is_alive" and "death_date" in present)
        ]
        self.ref = coverage.reference_date(lock=True)
        self.deltas = coverage.new_deltas()
        self.adapt_date = connection.ops.adapt_datefield_value
        pk_field = Penduduk._meta.pk
        assert pk_field is not None
        self.pk_field = pk_field
        source_field = Penduduk._meta.get_field("source_import")
        self.source_value = source_field.get_db_prep_value(run.pk, connection) if run else None
        cols = [
            "id",
            *(_DB_COLUMN.get(c, c) for c in self.columns),
            "source_import_id",
            "source_line",
            "created_at",
            "updated_at",
        ]
        updates = [_DB_COLUMN.get(c, c) for c in updated_fields] + [
            "source_import_id",
            "source_line",
            "updated_at",
        ]
        quoted = connection.ops.quote_name
        self.penduduk_sql = (
            f"INSERT INTO registry_penduduk ({', '.join(quoted(c) for c in cols)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(cols))}) ON CONFLICT (nik) DO UPDATE SET "
            + ", ".join(f"{quoted(c)} = excluded.{quoted(c)}" for c in updates)
        )
        if "keluarga_id" in present:
            family_updates = ["desa_id", "updated_at"] + [
                c for c in ("rt", "rw", "street") if c in present
            ]
            self.family_columns = [
                "id",
                "no_kk",
                "desa_id",
                "rt",
                "rw",
                "street",
                "created_at",
                "updated_at",
            ]
            # Column names come from the fixed lists above, never from the file.
            assignments = ", ".join(f"{c} = excluded.{c}" for c in family_updates)
            self.family_sql = (
                "INSERT INTO registry_keluarga (id, no_kk, desa_id, rt, rw, street, created_at, "  # noqa: S608
                "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (no_kk) DO "
                f"UPDATE SET {assignments}"
            )
        else:
            self.family_sql = ""
        self.present = present

    def _date(self, value: dt.date | None) -> Any:
        return self.adapt_date(value)

    def write(
        self, batch: list[tuple[int, dict[str, Any]]], problems: list[RowProblem]
    ) -> tuple[int, int]:
        """Write one batch; duplicates of earlier rows become problems. Returns (new, updated)."""
        niks = [row["nik"] for _line, row in batch]
        existing: dict[str, dict[str, Any]] = {}
        fields = ["nik", *coverage.COVERAGE_FIELDS, "source_import_id", "source_line"]
        for chunk_start in range(0, len(niks), 900):
            chunk = niks[chunk_start : chunk_start + 900]
            for values in Penduduk.objects.filter(nik__in=chunk).values_list(*fields):
                existing[values[0]] = dict(zip(fields, values, strict=True))
        seen: dict[str, int] = {}
        good: list[tuple[int, dict[str, Any]]] = []
        for line, row in batch:
            nik = row["nik"]
            old = existing.get(nik)
            first = seen.get(nik)
            if (
                first is None
                and old is not None
                and self.run_key
                and str(old["source_import_id"] or "")
                in {self.run_key, self.run_key.replace("-", "")}
            ):
                first = old["source_line"]
            if first is not None:
                problems.append(
                    RowProblem(
                        line,
                        "nik",
                        _("NIK sama dengan baris %d dalam berkas ini (duplikat).") % first,
                    )
                )
                continue
            seen[nik] = line
            good.append((line, row))
        if not good:
            return 0, 0
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        deltas = self.deltas
        penduduk_params = []
        families: dict[str, tuple[Any, ...]] = {}
        heads = []
        created = updated = 0
        for line, row in good:
            old = existing.get(row["nik"])
            after = {name: row.get(name, _DEFAULTS.get(name)) for name in coverage.COVERAGE_FIELDS}
            if old is not None:
                updated += 1
                for name in coverage.COVERAGE_FIELDS:
                    if name not in row:
                        after[name] = old[name]
            else:
                created += 1
            coverage.delta(deltas, old, after, self.ref)
            params: list[Any] = [self.pk_field.get_db_prep_value(uuid.uuid4(), connection)]
            for name in self.columns:
                value = row.get(name, _DEFAULTS.get(name))
                if name in {"birth_date", "death_date", "akta_kelahiran_date"}:
                    value = self._date(value)
                params.append(value)
            params += [self.source_value, line, now, now]
            penduduk_params.append(params)
            kk = row.get("keluarga_id")
            if kk and self.family_sql:
                families[kk] = (
                    self.pk_field.get_db_prep_value(uuid.uuid4(), connection),
                    kk,
                    row["desa_id"],
                    row.get("rt", ""),
                    row.get("rw", ""),
                    row.get("street", ""),
                    now,
                    now,
                )
                if row.get("relationship") == Relationship.KEPALA:
                    heads.append((row["nik"], kk))
        with connection.cursor() as cursor:
            if families:
                cursor.executemany(self.family_sql, list(families.values()))
            cursor.executemany(self.penduduk_sql, penduduk_params)
            if heads:
                cursor.executemany(
                    "UPDATE registry_keluarga SET kepala_id = (SELECT id FROM registry_penduduk "
                    "WHERE nik = %s) WHERE no_kk = %s",
                    heads,
                )
        return created, updated

    def finish(self) -> None:
        """Apply the coverage change of the whole import (one pass over the counters)."""
        coverage.apply_deltas(self.deltas)


class _Rollback(Exception):
    pass


def import_file(
    path: str,
    *,
    run: ImportRun | None = None,
    partial: bool = False,
    office: Any = None,
    actor: Any = None,
    progress: Callable[[int, float], None] | None = None,
) -> ImportResult:
    """Import a CSV/XLSX export; all-or-nothing unless ``partial``.

    ``office`` limits the rows to the office's region. File-level problems (format, encoding,
    columns, truncation) reject the whole file with ``fatal`` set.
    """
    result = ImportResult()
    try:
        kind = sniff_kind(path)
        header, rows, fraction = read_xlsx(path) if kind == "xlsx" else read_csv(path)
        layout = map_columns(header)
        layout.strict_width = kind == "csv"
    except FileError as exc:
        result.fatal = str(exc)
        return result
    result.ignored_columns = layout.ignored
    allowed = None
    if office is not None:
        allowed = office.region_id + "."
    desa_codes = set(Region.objects.filter(level=Region.Level.DESA).values_list("code", flat=True))
    checker = RowChecker(layout, desa_codes, allowed)
    present = set(layout.index) - {"desa_code", *DESA_PARTS} | {"desa_id"}
    try:
        with transaction.atomic():
            writer = BatchWriter(run, present)
            batch: list[tuple[int, dict[str, Any]]] = []
            for line, values in rows:
                result.rows_total += 1
                try:
                    batch.append((line, checker.check(values)))
                except RowError as exc:
                    result.problems.append(RowProblem(line, exc.column, exc.reason))
                if len(batch) >= BATCH_SIZE:
                    created, updated = writer.write(batch, result.problems)
                    result.created += created
                    result.updated += updated
                    batch = []
                    if progress:
                        progress(result.rows_total, fraction())
            if batch:
                created, updated = writer.write(batch, result.problems)
                result.created += created
                result.updated += updated
            writer.finish()
            if progress:
                progress(result.rows_total, 1.0)
            if result.rows_total == 0:
                result.fatal = _("Berkas tidak berisi baris data (hanya judul kolom).")
                raise _Rollback
            if result.problems and not partial:
                raise _Rollback
            record_event(
                actor,
                "registry.import.apply",
                run,
                office=office,
                object_type="" if run else "registry.importrun",
                data={
                    "rows": result.rows_total,
                    "created": result.created,
                    "updated": result.updated,
                    "rejected": result.rejected,
                },
            )
            result.committed = True
    except _Rollback:
        result.committed = False
    except FileError as exc:
        result.fatal = str(exc)
        result.committed = False
    if not result.committed:
        result.created = result.updated = 0
    return result


def write_error_csv(problems: list[RowProblem], handle: IO[str]) -> None:
    """The rejected rows as CSV: line, column, reason (no personal data)."""
    writer = csv.writer(handle, delimiter=";")
    writer.writerow([_("baris"), _("kolom"), _("alasan")])
    for problem in sorted(problems, key=lambda p: p.line):
        writer.writerow([problem.line, problem.column, problem.reason])


def progress_key(run_id: object) -> str:
    """Cache key of an import's progress (the transaction hides the rows until commit)."""
    return f"registry:import:{run_id}"


def publish_progress(run_id: object, rows: int, fraction: float) -> None:
    cache.set(progress_key(run_id), {"rows": rows, "fraction": round(min(fraction, 1.0), 3)}, 3600)
