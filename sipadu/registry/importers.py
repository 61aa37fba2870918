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
import contextlib
import csv
import dataclasses
import datetime as dt
import fcntl
import functools
import gc
import io
import itertools
import json
import logging
import marshal
import multiprocessing
import os
import re
import sqlite3
import threading
import time
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from queue import Empty
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
    RECORD_FIELDS,
    BloodType,
    Education,
    ImportRun,
    MaritalStatus,
    Nationality,
    Relationship,
    Religion,
    Sex,
)
from .names import fold_name, word_key
from .nik import decode_kk, decode_nik
from .search import remember_words

log = logging.getLogger(__name__)

BATCH_SIZE = 10_000


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
    """Wraps a binary file to report how many bytes have been read (progress), reading at
    most ``limit`` bytes when given (one stretch of the file for one reader process)."""

    def __init__(self, raw: IO[bytes], limit: int | None = None) -> None:
        self.raw = raw
        self.count = 0
        self.limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = len(buffer)
        if self.limit is not None:
            wanted = min(wanted, self.limit - self.count)
        data = self.raw.read(wanted) if wanted > 0 else b""
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def read_csv(
    path: str, encoding: str = "", span: Span | None = None
) -> tuple[list[str], Iterator[tuple[int, list[Any]]], Callable[[], float]]:
    """Header, (line, values) rows and a progress fraction function for a CSV file.

    With a ``span`` (see :func:`csv_spans`) the rows are those of that stretch of the file
    only, numbered as lines of the whole file.
    """
    encoding = encoding or detect_encoding(path)
    size = os.path.getsize(path) or 1
    raw = _CountingReader(open(path, "rb"))  # noqa: SIM115 - closed by the row iterator
    text = io.TextIOWrapper(io.BufferedReader(raw, 1 << 16), encoding=encoding, newline="")
    sample = text.readline()
    if not sample.strip():
        text.close()
        raise FileError(_("Berkas kosong atau baris pertama (judul kolom) kosong."))
    delimiter = max((";", ",", "\t", "|"), key=sample.count)
    lines: Iterator[str] = itertools.chain([sample], text)
    header_reader = csv.reader(lines, delimiter=delimiter, strict=True)
    header = next(header_reader)
    lines_before = header_reader.line_num
    if span is not None:
        text.close()
        start, end, lines_before = span
        handle = open(path, "rb")  # noqa: SIM115 - closed by the row iterator
        handle.seek(start)
        raw = _CountingReader(handle, end - start)
        size = max(1, end - start)
        text = io.TextIOWrapper(io.BufferedReader(raw, 1 << 16), encoding=encoding, newline="")
        lines = iter(text)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        # A line without a quote character is split at the delimiter: the csv module's parser
        # costs several times more for the same fields. A line with one is parsed by a csv
        # reader, which goes on to the further lines a quoted field spans.
        line = lines_before
        try:
            for text_line in lines:
                line += 1
                if '"' in text_line:
                    record = csv.reader(
                        itertools.chain((text_line,), lines), delimiter=delimiter, strict=True
                    )
                    values = next(record, [])
                    line += record.line_num - 1
                else:
                    values = text_line.rstrip("\r\n").split(delimiter)
                # A blank line is skipped (the first value decides for almost every row).
                if not (values and values[0].strip()) and not any(v.strip() for v in values):
                    continue
                yield line, values
        except csv.Error as exc:  # reported at the line where the record starts
            raise FileError(
                _(
                    "Baris %(line)d tidak dapat dibaca (%(error)s): berkas terpotong atau tanda "
                    "kutip tidak ditutup."
                )
                % {"line": line, "error": exc}
            ) from exc
        finally:
            text.close()

    return header, rows(), lambda: raw.count / size


#: A stretch of a CSV file's data lines: start and end byte offsets (each at the start of a
#: line) and the number of lines before it, so that rows keep their line numbers.
Span = tuple[int, int, int]


def csv_spans(path: str, encoding: str, parts: int) -> list[Span] | None:
    """Split a CSV file's data lines into ``parts`` stretches of about equal size, cut at
    record ends, for as many reader processes; None when the file cannot be cut.

    Only the bytes before the last cut are read. A cut is a record end when an even number of
    quote characters comes before it (a quoted field, line breaks included, holds an even
    number), so a cut that falls inside a quoted field moves on line by line. Line numbers
    count line ends as the CSV reader does (``\n``, ``\r\n`` and a lone ``\r``). Encodings
    whose line end is not the byte ``\n`` (UTF-16) are read by one process.
    """
    if parts < 2 or encoding not in ("utf-8", "utf-8-sig", "cp1252"):
        return None
    size = os.path.getsize(path)
    lines = quotes = 0

    def count(data: bytes) -> None:
        nonlocal lines, quotes
        quotes += data.count(b'"')
        lines += data.count(b"\n")
        if b"\r" in data:  # a lone carriage return ends a line too
            lines += data.count(b"\r") - data.count(b"\r\n")

    with open(path, "rb") as handle:
        count(handle.readline())  # the header
        first = start = handle.tell()
        lines_at_start = lines
        spans: list[Span] = []
        for i in range(1, parts):
            handle.seek(max(start, first + (size - first) * i // parts))
            handle.readline()  # to the end of the line the target falls in
            cut = handle.tell()
            handle.seek(start)
            left = cut - start
            while left > 0:
                chunk = handle.read(min(left, 8 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                if chunk.endswith(b"\r") and left > 0:  # keep a \r\n pair in one chunk
                    extra = handle.read(1)
                    chunk += extra
                    left -= len(extra)
                count(chunk)
            while quotes % 2:  # inside a quoted field: on to the next line end
                line = handle.readline()
                if not line:
                    return None
                count(line)
                cut = handle.tell()
            if cut >= size:
                break
            spans.append((start, cut, lines_at_start))
            lines_at_start = lines
            start = cut
        spans.append((start, size, lines_at_start))
    return spans if len(spans) >= 2 else None


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


def _plain(value: Any) -> Any:
    """A TextChoices member as its plain value: binds and pickles faster than the enum."""
    return value.value if isinstance(value, Enum) else value


def _fold_fast(name: str) -> str:
    """:func:`fold_name`, without Unicode normalisation when the name is plain ASCII."""
    if name.isascii():
        return _NOT_WORD.sub(" ", name.lower().replace("'", "").replace("`", "")).strip()
    return fold_name(name)


_NOT_WORD = re.compile(r"[^a-z0-9]+")
_NO_VALUES = frozenset({"-", "0"})

# Columns of registry_penduduk in the order of a checked row (the tuple the reader builds);
# `source_import_id`, `created_at` and `updated_at` are the same for the whole import and are
# written as literals.
ROW_COLUMNS = (
    "id",
    *RECORD_FIELDS[:3],
    "name_folded",
    *RECORD_FIELDS[3:],
    "source_line",
)
_AT = {name: i for i, name in enumerate(ROW_COLUMNS)}
_DB_COLUMN = {"keluarga_id": "no_kk"}
# Dates travel as ISO text (compared as text, bound as text by both databases).
_DATE_FIELDS = frozenset({"birth_date", "death_date", "akta_kelahiran_date"})
# Fields always written on update (derived from required columns).
_ALWAYS_UPDATED = ("full_name", "name_folded", "sex", "birth_date", "desa_id")
_TEXT_LIMITS = (
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
)


# The variant bits and a 14-bit counter as four hex digits, for _uuid_hexes().
_COUNTER_HEX = [f"{0x8000 | i:04x}" for i in range(1 << 14)]


def _uuid_hexes(count: int) -> list[str]:
    """``count`` new primary keys as 32 hex digits, in ascending order (UUID version 7).

    Time-ordered keys append to the primary-key index instead of landing at random pages of
    it, which keeps a multi-million-row import fast once the index outgrows the page cache;
    ``uuid.uuid4()`` per row would also cost more than the rest of the row's checks. A counter
    from a random start takes the 12 bits after the version and the 14 after the variant; the
    last 48 bits are random. Keys are put together from ready-made pieces (a few times faster
    than formatting each key).
    """
    millis = time.time_ns() // 1_000_000 & 0xFFFFFFFFFFFF
    value = int.from_bytes(os.urandom(3), "big")
    tails = os.urandom(6 * count).hex(" ", 6).split()
    out: list[str] = []
    done = 0
    while done < count:
        low = value & 0x3FFF
        run = min(count - done, 0x4000 - low)
        head = f"{millis:012x}7{value >> 14 & 0xFFF:03x}"
        pieces = zip(_COUNTER_HEX[low : low + run], tails[done : done + run], strict=True)
        out += [head + c + t for c, t in pieces]
        done += run
        value += run
    return out


@dataclass
class Batch:
    """Checked rows of one stretch of the file, as the reader hands them to the writer.

    ``rows`` are tuples in :data:`ROW_COLUMNS` order; ``counts`` counts them by coverage state
    key as if they were all new; ``families`` maps a KK number to (desa, rt, rw, street) of its
    last member in the batch; ``heads`` are (NIK, KK, id) of rows whose SHDK is the head.
    """

    rows: list[tuple[Any, ...]]
    problems: list[RowProblem]
    counts: dict[coverage.StateKey, int]
    families: dict[str, tuple[str, str, str, str]]
    heads: list[tuple[str, str, str]]
    total: int
    fraction: float
    words: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    """Everything the reader needs, picklable and free of database access."""

    path: str
    kind: str
    encoding: str
    layout: Layout
    desa_codes: set[str]
    allowed_prefix: str | None
    bounds: coverage.AgeBounds
    today: dt.date
    batch_size: int
    #: The stretch of a CSV file this reader checks (None: the whole file).
    span: Span | None = None
    #: Rows for :meth:`BatchWriter._write_first_load` (see :data:`_NULLABLE`): flags as 1/0
    #: and "" for a missing KK or date, which that statement stores as NULL.
    compact: bool = False


class RowChecker:
    """Turns one row of the file into the tuple written to the database, or raises RowError.

    Built for speed: column positions are resolved once, and every coded value, date, desa
    code and KK number is checked once per distinct text (memo dictionaries), so a typical row
    costs a few dictionary look-ups. Messages are translated only for rejected rows.
    """

    def __init__(self, plan: Plan) -> None:
        layout = plan.layout
        self.plan = plan
        self.index = index = layout.index
        self.width = layout.width
        self.strict_width = layout.strict_width
        self.desa_codes = plan.desa_codes
        self.allowed_prefix = plan.allowed_prefix
        self.today = plan.today
        self.today_iso = plan.today.isoformat()
        self.bounds = plan.bounds
        self.p_nik = index["nik"]
        self.p_name = index["full_name"]
        self.p_sex = index["sex"]
        self.p_birth = index["birth_date"]
        self.p_kk = index.get("keluarga_id")
        self.p_desa = index.get("desa_code", -1)
        self.p_parts = None if "desa_code" in index else [index[p] for p in DESA_PARTS]
        self.coded: list[tuple[int, int, dict[Any, str], dict[str, Any], str, Any]] = [
            (index[name], _AT[name], {}, table, name, label)
            for name, table, label in _CODED_FIELDS
            if name in index
        ]
        # RT, RW and street belong to the family: see address().
        self.texts = [
            (index[name], _AT[name], limit, name)
            for name, limit in _TEXT_LIMITS
            if name in index and name in _AT
        ]
        self.flags = [
            (index[name], _AT[name], name)
            for name in ("ktp_el_recorded", "ktp_el_printed", "kia")
            if name in index
        ]
        self.dates = [
            (index[name], _AT[name], name)
            for name in ("akta_kelahiran_date", "death_date")
            if name in index
        ]
        self.p_alive = index.get("is_alive")
        self.p_street = index.get("street")
        self.p_rt = index.get("rt")
        self.p_rw = index.get("rw")
        # Python's sqlite3 binds str and int directly but sends None and bool through its
        # adapter look-up, at several times the cost: a first load binds neither.
        self.null: Any = "" if plan.compact else None
        self.flag_value: Callable[[bool], Any] = int if plan.compact else bool
        self.template = self._template()
        self.sex_memo: dict[str, str] = {}
        self.birth_memo: dict[str, tuple[str, str, str]] = {}
        self.female = _plain(Sex.FEMALE)
        self.desa_memo: dict[Any, str] = {}
        self.kk_memo: dict[str, str] = {}
        self.kk_dates: set[str] = set()  # DDMMYY issue dates seen valid (at most 36,525)
        self.flag_memo: dict[str, Any] = {}
        self.date_memo: dict[str, str] = {}
        self.alive_memo: dict[str, Any] = {}
        self.word_keys: dict[str, str] = {}
        self.new_words: dict[str, str] = {}

    def _template(self) -> list[Any]:
        """A row of defaults (what a column absent from the file gets on insert)."""
        row: list[Any] = [None] * len(ROW_COLUMNS)
        for name, value in _DEFAULTS.items():
            if name in _AT:
                value = _plain(value)
                if value is None:
                    value = self.null
                elif isinstance(value, bool):
                    value = self.flag_value(value)
                row[_AT[name]] = value
        return row

    # -- slow paths (first sight of a value, or a rejected row) ------------------------------

    def _width(self, values: list[Any]) -> list[Any]:
        width = self.width
        if len(values) < width:
            if self.strict_width:
                raise RowError(
                    "",
                    _("Baris hanya berisi %(n)d dari %(m)d kolom (berkas terpotong?).")
                    % {"n": len(values), "m": width},
                )
            return values + [""] * (width - len(values))
        if any(_text(v) for v in values[width:]):
            raise RowError(
                "",
                _("Baris berisi %(n)d kolom, lebih dari %(m)d kolom judul.")
                % {"n": len(values), "m": width},
            )
        return values[:width]

    def _birth(self, raw: str) -> tuple[str, str, str]:
        """The birth date as ISO text, with the DDMMYY a man's and a woman's NIK carry."""
        born = parse_date(raw, "tanggal_lahir")
        if born > self.today:
            raise RowError("tanggal_lahir", _("Tanggal lahir di masa depan."))
        month_year = f"{born.month:02d}{born.year % 100:02d}"
        entry = (born.isoformat(), f"{born.day:02d}{month_year}", f"{born.day + 40}{month_year}")
        self.birth_memo[raw] = entry
        return entry

    def _nik_slow(self, raw: Any, sex: str, birth_iso: str) -> str:
        nik = _number(raw, "nik", "NIK")
        birth = dt.date.fromisoformat(birth_iso)
        check = decode_nik(nik, sex=sex, birth_date=birth, today=self.today)
        if not check.valid:
            raise RowError("nik", " ".join(check.errors))
        return check.number

    def _desa(self, values: list[Any]) -> str:
        if self.p_parts is None:
            raw = _text(values[self.p_desa])
            memo_key: Any = raw
            code = normalise_code(raw.replace(" ", ""))
        else:
            parts = [_text(values[p]) for p in self.p_parts]
            memo_key = tuple(values[p] for p in self.p_parts)
            if not all(p.isdigit() for p in parts):
                raw = code = ".".join(parts)
            else:
                widths = (2, 2, 2, 4)
                code = ".".join(p.zfill(w)[-w:] for p, w in zip(parts, widths, strict=True))
                raw = code
            if not any(parts):
                raw = ""
        if not raw:
            raise RowError("kode_desa", _("Kode desa/kelurahan kosong."))
        if code not in self.desa_codes:
            raise RowError("kode_desa", _("Kode desa/kelurahan %s tidak dikenal.") % raw[:20])
        if self.allowed_prefix and not code.startswith(self.allowed_prefix):
            raise RowError("kode_desa", _("Desa/kelurahan %s di luar wilayah kantor Anda.") % code)
        self.desa_memo[memo_key] = code
        return code

    def _kk(self, raw: Any) -> str:
        if len(self.kk_memo) > 50_000:
            self.kk_memo.clear()
        # Fast path (members of a family are usually consecutive, so most KKs are new here):
        # a well-formed number whose issue date (DDMMYY) was already seen valid.
        number = raw.strip() if isinstance(raw, str) else ""
        if (
            len(number) == 16
            and number.isdigit()
            and number[:2] != "00"
            and number[2:4] != "00"
            and number[4:6] != "00"
            and number[12:] != "0000"
            and number[6:12] in self.kk_dates
        ):
            self.kk_memo[raw] = number
            return number
        number = _number(raw, "no_kk", _KK_LABEL)
        if not number:
            return ""
        kk = decode_kk(number, today=self.today)
        if not kk.valid:
            raise RowError("no_kk", " ".join(kk.errors))
        self.kk_dates.add(kk.number[6:12])
        self.kk_memo[raw] = kk.number
        return kk.number

    def _word_key(self, word: str) -> str:
        if len(self.word_keys) > 200_000:
            self.word_keys.clear()
        key = self.word_keys[word] = word_key(word)
        # New to this reader: the writer adds it to the name vocabulary (NameWord).
        self.new_words[word] = key
        return key

    def _alive(self, raw: str) -> Any:
        status = header_key(raw)
        if status in _ALIVE or status == "":
            alive = True
        elif status in _DEAD:
            alive = False
        else:
            raise RowError("status_hidup", _("Status hidup '%s' tidak dikenal.") % raw[:20])
        value = self.alive_memo[raw] = self.flag_value(alive)
        return value

    def _date(self, raw: str, column: str) -> str:
        iso = parse_date(raw, column).isoformat()
        if len(self.date_memo) > 100_000:
            self.date_memo.clear()
        self.date_memo[raw] = iso
        return iso

    # -- the row -------------------------------------------------------------------------------

    def check(self, values: list[Any], line: int, row_id: str) -> tuple[Any, ...]:
        """The row as a tuple in :data:`ROW_COLUMNS` order (``values`` are text)."""
        if len(values) != self.width:
            values = self._width(values)
        row = self.template.copy()
        raw_sex = values[self.p_sex]
        sex = self.sex_memo.get(raw_sex)
        if sex is None:
            sex = self.sex_memo[raw_sex] = _plain(
                _coded(raw_sex, _SEX, "jenis_kelamin", _SEX_LABEL)
            )
        raw_birth = values[self.p_birth]
        birth, digits, female_digits = self.birth_memo.get(raw_birth) or self._birth(raw_birth)
        if sex == self.female:
            digits = female_digits
        raw_nik = values[self.p_nik]
        nik = raw_nik.strip()
        if not (
            len(nik) == 16
            and nik.isdigit()
            and nik[6:12] == digits
            and nik[12:] != "0000"
            and nik[:2] != "00"
            and nik[2:4] != "00"
            and nik[4:6] != "00"
        ):
            nik = self._nik_slow(raw_nik, sex, birth)
        name = values[self.p_name].strip()
        if not name:
            raise RowError("nama", _("Nama kosong."))
        name = name[:150]
        folded = _fold_fast(name)
        words = self.word_keys
        for word in folded.split():
            if word not in words:
                self._word_key(word)
        if self.p_parts is None:
            desa = self.desa_memo.get(values[self.p_desa]) or self._desa(values)
        else:
            desa = self.desa_memo.get(tuple(values[p] for p in self.p_parts)) or self._desa(values)
        row[0] = row_id
        row[1] = nik
        row[3] = name
        row[4] = folded[:150]
        row[5] = sex
        row[7] = birth
        row[19] = desa
        row[28] = line
        if self.p_kk is not None:
            raw_kk = values[self.p_kk]
            row[2] = (self.kk_memo.get(raw_kk) or self._kk(raw_kk)) or self.null
        for position, at, memo, table, column, label in self.coded:
            raw = values[position]
            value = memo.get(raw)
            if value is None:
                text = _text(raw)
                if text or column == "blood_type":
                    value = _plain(_coded(raw, table, column, label))
                else:
                    value = _plain(_DEFAULTS.get(column, ""))
                memo[raw] = value
            row[at] = value
        for position, at, limit, column in self.texts:
            text = values[position].strip()
            if text in _NO_VALUES and column.endswith("_no"):
                text = ""
            elif len(text) > limit:
                raise RowError(column, _("Isian lebih dari %d karakter.") % limit)
            row[at] = text
        for position, at, column in self.flags:
            raw = values[position]
            flag = self.flag_memo.get(raw)
            if flag is None:
                flag = self.flag_memo[raw] = self.flag_value(_flag(raw, column))
            row[at] = flag
        for position, at, column in self.dates:
            raw = values[position]
            if not raw or not raw.strip():
                row[at] = self.null
            else:
                row[at] = self.date_memo.get(raw) or self._date(raw, column)
        if self.p_alive is not None:
            raw = values[self.p_alive]
            alive = self.alive_memo.get(raw)
            row[17] = self._alive(raw) if alive is None else alive
        death = row[18]
        if death:
            if self.p_alive is None:
                row[17] = self.flag_value(False)
            if death < birth or death > self.today_iso:
                raise RowError("tanggal_kematian", _("Tanggal kematian tidak mungkin."))
        if row[25] and row[17]:
            raise RowError("akta_kematian", _("Ada akta kematian tetapi status masih hidup."))
        return tuple(row)

    def address(self, values: list[Any]) -> tuple[str, str, str]:
        """RT, RW and street of a row that passed :meth:`check` (family columns)."""
        rt = _text(values[self.p_rt]) if self.p_rt is not None else ""
        rw = _text(values[self.p_rw]) if self.p_rw is not None else ""
        if rt.isdigit():
            rt = rt.zfill(3)[-3:]
        if rw.isdigit():
            rw = rw.zfill(3)[-3:]
        for text, column in ((rt, "rt"), (rw, "rw")):
            if len(text) > 3:
                raise RowError(column, _("Isian lebih dari %d karakter.") % 3)
        street = _text(values[self.p_street]) if self.p_street is not None else ""
        if len(street) > 200:
            raise RowError("street", _("Isian lebih dari %d karakter.") % 200)
        return rt, rw, street


def row_state_key(row: tuple[Any, ...] | list[Any], bounds: coverage.AgeBounds) -> Any:
    """Coverage state key of a row tuple (:data:`ROW_COLUMNS` order)."""
    return coverage.state_key(
        bounds,
        row[19],
        row[17],
        row[7],
        row[9] == MaritalStatus.BELUM_KAWIN,
        bool(row[20]),
        row[24],
        row[22],
        bool(row[2]),
        bool(row[25]),
    )


def _xlsx_text(values: list[Any], numbers: tuple[tuple[int, str, Any], ...]) -> list[str]:
    """An XLSX row as text, refusing NIK/KK typed into number cells (digits already lost)."""
    for position, column, label in numbers:
        if position < len(values):
            value = values[position]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                _number(value, column, label)
    out = []
    for value in values:
        if isinstance(value, dt.datetime):
            out.append(value.date().isoformat())
        elif isinstance(value, dt.date):
            out.append(value.isoformat())
        else:
            out.append(_text(value))
    return out


def read_batches(plan: Plan) -> Iterator[Batch]:
    """Read and check the file, yielding :class:`Batch` es (runs in the reader process).

    Duplicate NIKs inside one batch are found here; duplicates across batches are found by the
    writer, which sees the rows already written.
    """
    if plan.kind == "xlsx":
        _header, rows, fraction = read_xlsx(plan.path)
    else:
        _header, rows, fraction = read_csv(plan.path, plan.encoding, plan.span)
    checker = RowChecker(plan)
    index = plan.layout.index
    numbers = tuple(
        (index[name], column, label)
        for name, column, label in (("nik", "nik", "NIK"), ("keluarga_id", "no_kk", _KK_LABEL))
        if name in index
    )
    xlsx = plan.kind == "xlsx"
    size = max(1, plan.batch_size)
    p_rel = index.get("relationship")
    has_kk = "keluarga_id" in index
    kepala = str(Relationship.KEPALA)
    bounds = plan.bounds
    b16, b17, b18 = bounds.b16, bounds.b17, bounds.b18
    belum_kawin = str(MaritalStatus.BELUM_KAWIN)

    def new_batch() -> Batch:
        return Batch([], [], {}, {}, [], 0, 0.0)

    def done(batch: Batch, fraction: float) -> Batch:
        batch.fraction = fraction
        batch.words = checker.new_words
        checker.new_words = {}
        return batch

    batch = new_batch()
    ids = _uuid_hexes(size)
    seen: dict[str, int] = {}
    for line, values in rows:
        batch.total += 1
        try:
            if xlsx:
                values = _xlsx_text(values, numbers)
            row = checker.check(values, line, ids[len(batch.rows)])
            nik = row[1]
            first = seen.get(nik)
            if first is not None:
                raise RowError(
                    "nik", _("NIK sama dengan baris %d dalam berkas ini (duplikat).") % first
                )
            if has_kk and row[2]:
                address = checker.address(values)
        except RowError as exc:
            batch.problems.append(RowProblem(line, exc.column, exc.reason))
        else:
            seen[nik] = line
            batch.rows.append(row)
            # Coverage state key, inlined (see coverage.state_key): this runs for every row.
            if row[17]:
                born = row[7]
                key = (
                    row[19],
                    1,
                    3 if born > b16 else 2 if born > b17 else 1 if born > b18 else 0,
                    1 if row[9] == belum_kawin else 0,
                    1 if row[20] else 0,
                    1 if row[24] else 0,
                    1 if row[22] else 0,
                    1 if row[2] else 0,
                    0,
                )
            else:
                key = (row[19], 0, 0, 0, 0, 0, 0, 0, 1 if row[25] else 0)
            batch.counts[key] = batch.counts.get(key, 0) + 1
            if has_kk and row[2]:
                batch.families[row[2]] = (row[19], *address)
                if p_rel is not None and row[10] == kepala:
                    batch.heads.append((nik, row[2], row[0]))
        if batch.total >= size:
            yield done(batch, fraction())
            batch = new_batch()
            ids = _uuid_hexes(size)
            seen = {}
    yield done(batch, 1.0)


# -- the reader process --------------------------------------------------------------------

# Files at least this big are read and checked in another process while this one writes.
# Smaller ones are read in-process: starting a process costs more than it saves.
PIPELINE_MIN_BYTES = 4 << 20
# Files at least this big are checked by READERS processes, each taking a stretch of the file:
# checking a row costs more CPU than writing it, so with one reader the writer waits.
SPLIT_MIN_BYTES = 32 << 20
READERS = 2
# Checked batches each reader may have waiting for the writer. The readers together are
# faster than the writer, so their queues stay full, and once they are done the writer works
# through what is queued while the other core idles: with four batches each that took
# 0.7 s of a million-row import, with two 0.1 s.
_QUEUE_DEPTH = 2


def _pack(batch: Batch) -> bytes:
    """A batch as bytes for the queue: ``marshal`` is about twice as fast as pickle both ways
    for tuples of plain strings, and the queue's feeder thread then only copies bytes."""
    problems = [(p.line, p.column, p.reason) for p in batch.problems]
    return marshal.dumps(
        (
            batch.rows,
            problems,
            batch.counts,
            batch.families,
            batch.heads,
            batch.total,
            batch.fraction,
            batch.words,
        )
    )


def _unpack(data: bytes) -> Batch:
    # Bytes from our own forked reader process, never from outside.
    rows, problems, counts, families, heads, total, fraction, words = marshal.loads(data)  # noqa: S302
    return Batch(
        rows, [RowProblem(*p) for p in problems], counts, families, heads, total, fraction, words
    )


def _reader_main(plan: Plan, queue: Any) -> None:
    """Entry point of the reader process: batches into ``queue``, then a final marker."""
    gc.disable()  # see gc_paused(); the process ends with the file
    try:
        for batch in read_batches(plan):
            queue.put(("batch", _pack(batch)))
        queue.put(("done", None))
    except FileError as exc:
        queue.put(("file", str(exc)))
    except BaseException as exc:  # reported to the writer, which fails the import
        queue.put(("crash", f"{type(exc).__name__}: {exc}"))


def _widen_pipe(queue: Any) -> None:
    """A 1 MB pipe under the queue (Linux; 64 kB by default): a batch crosses in a few writes
    instead of dozens, each of which wakes the other process."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(queue._writer.fileno(), set_size, 1 << 20)


def _forked_batches(plans: list[Plan]) -> Iterator[Batch] | None:
    """Batches read by forked child processes, one per plan (stretch of the file), taken in
    turn; None when a process cannot be started."""
    readers: list[tuple[Any, Any]] = []
    try:
        context = multiprocessing.get_context("fork")
        for plan in plans:
            queue = context.Queue(maxsize=_QUEUE_DEPTH)
            _widen_pipe(queue)
            process = context.Process(target=_reader_main, args=(plan, queue), daemon=True)
            process.start()
            readers.append((process, queue))
    except (ValueError, OSError, AssertionError):
        # No fork on this platform, or we are a daemonic worker process: read in-process.
        _stop(readers)
        return None
    # Progress: each reader reports the fraction of its own stretch.
    sizes = [(p.span[1] - p.span[0]) if p.span else 1 for p in plans]
    weights = [size / sum(sizes) for size in sizes]

    def batches() -> Iterator[Batch]:
        done_so_far = [0.0] * len(readers)
        live = list(range(len(readers)))
        try:
            while live:
                for i in list(live):
                    process, queue = readers[i]
                    while True:
                        try:
                            kind, payload = queue.get(timeout=2)
                            break
                        except Empty:
                            if not process.is_alive():
                                raise RuntimeError("registry import reader exited early") from None
                    if kind == "batch":
                        batch = _unpack(payload)
                        done_so_far[i] = batch.fraction
                        batch.fraction = sum(
                            f * w for f, w in zip(done_so_far, weights, strict=True)
                        )
                        yield batch
                    elif kind == "done":
                        live.remove(i)
                    elif kind == "file":
                        raise FileError(payload)
                    else:
                        raise RuntimeError(f"registry import reader failed: {payload}")
        finally:
            _stop(readers)

    return batches()


def _stop(readers: list[tuple[Any, Any]]) -> None:
    for process, queue in readers:
        if process.is_alive():
            process.terminate()
        process.join(timeout=10)
        queue.close()


def reader_plans(plan: Plan) -> list[Plan]:
    """The plans of the reader processes: a big CSV file is split between two readers when the
    machine has the cores for them and the writer (see :data:`SPLIT_MIN_BYTES`)."""
    if plan.kind != "csv" or os.path.getsize(plan.path) < SPLIT_MIN_BYTES:
        return [plan]
    if (os.cpu_count() or 1) < 2:
        return [plan]
    spans = csv_spans(plan.path, plan.encoding, READERS)
    if spans is None:
        return [plan]
    return [dataclasses.replace(plan, span=span) for span in spans]


# -- writing ----------------------------------------------------------------------------------

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
# Columns a row may leave empty (NULL): see Plan.compact.
_NULLABLE = frozenset(name for name, value in _DEFAULTS.items() if value is None)


# Indexed columns of registry_penduduk that only search uses (see BatchWriter.start).
_SEARCH_INDEXED = ("name_folded", "birth_date")
# Indexes of the residents kept through a first load: few distinct keys (desa) or members of
# a family next to each other (KK), so rows join them near a few places the page cache holds;
# growing them while the readers check rows costs less than rebuilding them alone at the end.
# The families' indexes (desa, head: time-ordered keys) are kept for the same reason.
_KEPT_ON_FIRST_LOAD = ("desa_id", "no_kk")


def _literal(value: Any) -> str:
    """An SQL string literal of a value we produced ourselves (timestamps, our own key)."""
    return "'" + str(value).replace("'", "''") + "'"


class BatchWriter:
    """Writes batches inside the import's transaction, set-based.

    Per batch: one look-up of the batch's NIKs (``IN`` lists) finds residents that exist;
    new residents go in with a plain ``INSERT`` (cheaper than an upsert on SQLite), existing
    ones with ``INSERT … ON CONFLICT (nik) DO UPDATE`` of the columns the file has, and a
    change-history row is written for those whose values changed. A NIK already written by
    this import (same ``updated_at``) is a duplicate line. Families are inserted or updated the
    same way, with their head's id known from the batch. Coverage moves by state-key counts,
    turned into counter deltas once at the end.
    """

    def __init__(
        self,
        run: ImportRun | None,
        present: set[str],
        actor: Any,
        bounds: coverage.AgeBounds,
        *,
        fk_off: bool = False,
    ) -> None:
        self.bounds = bounds
        self.fk_off = fk_off
        self.dropped_indexes: list[tuple[str, str]] = []
        self.counts: dict[coverage.StateKey, int] = defaultdict(int)
        self.present = present
        self.sqlite = connection.vendor == "sqlite"
        self.max_params = 5000 if self.sqlite else 20000
        now = timezone.now()
        self.now_param = connection.ops.adapt_datetimefield_value(now)
        now_sql = _literal(self.now_param if self.sqlite else now.isoformat())
        self.now_sql = now_sql
        self.source_id = (run.pk.hex if self.sqlite else run.pk) if run else None
        source = _literal(self.source_id) if run else "NULL"
        self.actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        quoted = connection.ops.quote_name
        columns = [_DB_COLUMN.get(c, c) for c in ROW_COLUMNS]
        column_list = ", ".join(quoted(c) for c in [*columns, "source_import_id"])
        column_list += ", created_at, updated_at"
        values = ", ".join(["%s"] * len(columns)) + f", {source}, {now_sql}, {now_sql}"
        self.insert_sql = f"INSERT INTO registry_penduduk ({column_list}) VALUES ({values})"  # noqa: S608
        # A first load's rows are compact (see Plan.compact): "" becomes NULL again here.
        compact_values = ", ".join("NULLIF(?, '')" if c in _NULLABLE else "?" for c in ROW_COLUMNS)
        self.insert_ignore_sql = (
            f"INSERT OR IGNORE INTO registry_penduduk ({column_list}) "  # noqa: S608
            f"VALUES ({compact_values}, {source}, {now_sql}, {now_sql})"
        )
        self.first_load = False
        # Updates: the columns in the file, what is derived from them, and the provenance.
        self.updated_fields = [
            c
            for c in ROW_COLUMNS[1:-1]
            if c in present or c in _ALWAYS_UPDATED or (c == "is_alive" and "death_date" in present)
        ]
        assignments = [
            f"{quoted(_DB_COLUMN.get(c, c))} = excluded.{quoted(_DB_COLUMN.get(c, c))}"
            for c in [*self.updated_fields, "source_line"]
        ] + ["source_import_id = excluded.source_import_id", "updated_at = excluded.updated_at"]
        self.upsert_sql = (
            self.insert_sql + " ON CONFLICT (nik) DO UPDATE SET " + ", ".join(assignments)
        )
        self.merged_coverage = [c for c in coverage.COVERAGE_FIELDS if c not in self.updated_fields]
        lookup_fields = ["id", "source_line", *self.updated_fields]
        for name in coverage.COVERAGE_FIELDS:
            if name not in lookup_fields:
                lookup_fields.append(name)
        self.lookup_fields = lookup_fields
        self.lookup_sql = (
            "SELECT nik, updated_at = %s, "  # noqa: S608 - fixed column names
            + ", ".join(quoted(_DB_COLUMN.get(c, c)) for c in lookup_fields)
            + " FROM registry_penduduk WHERE nik IN ({})"
        )
        self.families = "keluarga_id" in present
        # No head: "" on SQLite, bound cheaper than None (see RowChecker.null).
        self.no_head = "" if self.sqlite else None
        head = "NULLIF(%s, '')" if self.sqlite else "%s"
        family_updates = ["desa_id"] + [c for c in ("rt", "rw", "street") if c in present]
        # One statement per KK: a new one is inserted with its head, a known one (earlier
        # batch or earlier import) gets the file's address and, when the batch has it, head.
        self.family_upsert_sql = (
            "INSERT INTO registry_keluarga (id, no_kk, desa_id, rt, rw, street, kepala_id, "  # noqa: S608
            "created_at, updated_at) "
            f"VALUES (%s, %s, %s, %s, %s, %s, {head}, {now_sql}, {now_sql}) "
            "ON CONFLICT (no_kk) DO UPDATE SET "
            + "".join(f"{c} = excluded.{c}, " for c in family_updates)
            + "kepala_id = COALESCE(excluded.kepala_id, registry_keluarga.kepala_id), "
            + f"updated_at = {now_sql}"
        )
        self.history_sql = (
            "INSERT INTO registry_pendudukchange (penduduk_id, at, actor_id, action, changes) "  # noqa: S608
            f"VALUES (%s, {now_sql}, %s, 'import', %s)"
        )

    # -- database helpers ------------------------------------------------------------------

    def _many(self, sql: str, params: list[Any]) -> None:
        if not params:
            return
        if self.sqlite:
            # The DB-API cursor directly: Django's wrapper re-iterates params through tee().
            connection.ensure_connection()
            raw = connection.connection
            raw.executemany(sql.replace("%s", "?"), params)
        else:
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)

    def _select_in(self, sql: str, head: list[Any], keys: list[str]) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            for start in range(0, len(keys), self.max_params):
                chunk = keys[start : start + self.max_params]
                cursor.execute(sql.format(", ".join(["%s"] * len(chunk))), [*head, *chunk])
                out.extend(cursor.fetchall())
        return out

    # -- one batch ---------------------------------------------------------------------------

    def write(self, batch: Batch, problems: list[RowProblem]) -> tuple[int, int]:
        """Write one batch; returns (created, updated). Duplicates become problems."""
        counts = self.counts
        for key, count in batch.counts.items():
            counts[key] += count
        remember_words(batch.words)
        rows = batch.rows
        if not rows:
            return 0, 0
        if self.first_load:
            return self._write_first_load(batch, problems), 0
        found = self._select_in(self.lookup_sql, [self.now_param], [r[1] for r in rows])
        new_rows = rows
        updates: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        ids: dict[str, str] = {}
        if found:
            new_rows = []
            existing = {f[0]: f for f in found}
            bounds = self.bounds
            fields = self.lookup_fields
            for row in rows:
                old = existing.get(row[1])
                if old is None:
                    new_rows.append(row)
                    continue
                counts[row_state_key(row, bounds)] -= 1
                if old[1]:
                    problems.append(
                        RowProblem(
                            row[28],
                            "nik",
                            _("NIK sama dengan baris %d dalam berkas ini (duplikat).") % old[3],
                        )
                    )
                    ids[row[1]] = ""
                    continue
                before = dict(zip(fields, old[2:], strict=True))
                ids[row[1]] = _text_id(before["id"])
                after = list(row)
                for name in self.merged_coverage:
                    after[_AT[name]] = before[name]
                counts[coverage.state_key_of(before, bounds)] -= 1
                counts[row_state_key(after, bounds)] += 1
                updates.append(row)
                diff = {}
                for name in self.updated_fields:
                    old_value = _comparable(before[name])
                    new_value = row[_AT[name]]
                    if old_value != new_value:
                        diff[name] = [old_value, new_value]
                if diff:
                    history.append((before["id"], self.actor_id, json.dumps(diff)))
        if self.families and batch.families:
            self._write_families(batch, ids)
        self._many(self.insert_sql, new_rows)
        self._many(self.upsert_sql, updates)
        self._many(self.history_sql, history)
        return len(new_rows), len(updates)

    def _write_first_load(self, batch: Batch, problems: list[RowProblem]) -> int:
        """A batch of a first load (SQLite, no residents before this import): plain inserts.

        Every resident in the table was written by this import, so a NIK already there is a
        duplicate line. Instead of looking every NIK up first, ``INSERT OR IGNORE`` skips
        those rows, and only when the change count says some were skipped are they found
        and reported (the row count also catches a row refused for another reason).
        """
        rows = batch.rows
        raw = connection.connection
        before = raw.total_changes
        raw.executemany(self.insert_ignore_sql, rows)
        ids: dict[str, str] = {}
        if raw.total_changes - before != len(rows):
            stored = {
                nik: (row_id, line)
                for nik, row_id, line in self._select_in(
                    "SELECT nik, id, source_line FROM registry_penduduk WHERE nik IN ({})",
                    [],
                    [r[1] for r in rows],
                )
            }
            for row in rows:
                row_id, line = stored.get(row[1], (None, None))
                if row_id == row[0]:
                    continue
                if row_id is None:
                    raise RuntimeError(f"registry import: line {row[28]} was not written")
                problems.append(
                    RowProblem(
                        row[28],
                        "nik",
                        _("NIK sama dengan baris %d dalam berkas ini (duplikat).") % line,
                    )
                )
                ids[row[1]] = ""
                self.counts[row_state_key(row, self.bounds)] -= 1
        if self.families and batch.families:
            self._write_families(batch, ids)
        return len(rows) - len(ids)

    def _write_families(self, batch: Batch, ids: dict[str, str]) -> None:
        """Insert new KKs (with their head when known) and update the address (and head) of
        known ones, in one upsert per KK."""
        heads: dict[str, str] = {}
        for nik, kk, row_id in batch.heads:
            known = ids.get(nik)
            if known == "":
                continue  # a duplicate line
            heads[kk] = known or row_id
        families = batch.families
        family_ids = _uuid_hexes(len(families))
        self._many(
            self.family_upsert_sql,
            [
                (family_ids[i], kk, *address, heads.get(kk, self.no_head))
                for i, (kk, address) in enumerate(families.items())
            ],
        )

    def start(self) -> None:
        """On SQLite, loading into an empty residents table: drop secondary indexes until
        finish().

        Building an index once from sorted keys is cheaper than growing it row by row. The DDL
        is part of the import's transaction (a rolled-back import keeps its indexes), and
        readers keep seeing the committed schema until the import commits. With foreign keys
        checked row by row only the search indexes go: SQLite needs the foreign-key columns'
        indexes to check a new KK against its members. On a first load with foreign keys off
        (see :func:`import_file`) every secondary index of the residents goes except those of
        :data:`_KEPT_ON_FIRST_LOAD`; :meth:`finish` checks every reference once instead.
        """
        if not self.sqlite:
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM registry_penduduk LIMIT 1")
            self.first_load = cursor.fetchone() is None
            if not self.first_load:
                return
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                "tbl_name = 'registry_penduduk' AND sql IS NOT NULL "
                "AND sql NOT LIKE 'CREATE UNIQUE%%'"
            )
            dropped = [
                (name, sql)
                for name, sql in cursor.fetchall()
                if any(f'("{column}")' in sql for column in _SEARCH_INDEXED)
                or (self.fk_off and not any(f'("{c}")' in sql for c in _KEPT_ON_FIRST_LOAD))
            ]
            for name, _sql in dropped:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            self.dropped_indexes.extend(dropped)

    def finish(self) -> None:
        """Rebuild dropped indexes, check references, apply the coverage change (one pass)."""
        if self.dropped_indexes:
            with connection.cursor() as cursor, _sort_cache(cursor):
                for _name, sql in self.dropped_indexes:
                    cursor.execute(sql)
            self.dropped_indexes = []
        if self.fk_off:
            self.check_references()
        coverage.apply_deltas(coverage.deltas_from_counts(self.counts, self.bounds))

    def check_references(self) -> None:
        """With foreign keys off: every reference of residents and families, checked once
        (each distinct value; the rows are counted when one points nowhere).

        Raises :class:`FileError` (the import is rolled back) when one points nowhere; the
        importer builds every family it links, so this guards against our own mistakes and
        against rows written by others while the check was off.
        """
        broken = 0
        with connection.cursor() as cursor:
            for table in _CHECKED_TABLES:
                cursor.execute(f"PRAGMA foreign_key_list({table})")
                for _id, _seq, parent, column, key, *_rest in cursor.fetchall():
                    dangling = f'NOT EXISTS (SELECT 1 FROM {parent} p WHERE p."{key}" = v)'  # noqa: S608
                    # Each distinct value once (through the column's index where there is
                    # one) instead of a look-up per row as PRAGMA foreign_key_check does;
                    # the rows are counted only when something is broken.
                    values = (
                        f'SELECT DISTINCT "{column}" AS v FROM {table} WHERE "{column}" IS NOT NULL'  # noqa: S608
                    )
                    params: list[Any] = []
                    if self.first_load and (table, column) == _IMPORT_REFERENCE:
                        # Every resident of a first load holds this import's id, written as
                        # a literal: that one value, instead of scanning the unindexed column.
                        values = "SELECT v FROM (SELECT %s AS v) WHERE v IS NOT NULL"
                        params = [self.source_id]
                    cursor.execute(f"SELECT 1 FROM ({values}) WHERE {dangling} LIMIT 1", params)  # noqa: S608
                    if cursor.fetchone():
                        cursor.execute(
                            f'SELECT COUNT(*) FROM (SELECT "{column}" AS v FROM {table} '  # noqa: S608
                            f'WHERE "{column}" IS NOT NULL) WHERE {dangling}'
                        )
                        broken += cursor.fetchone()[0]
        if broken:
            raise FileError(
                _(
                    "Impor dibatalkan: %d rujukan ke keluarga, wilayah atau penduduk tidak "
                    "ditemukan. Tidak ada data yang disimpan."
                )
                % broken
            )


# Page cache (KiB) while dropped indexes are rebuilt. SQLite's sorter keeps runs as big as the
# page cache in memory: with the connection's 64 MB a million keys sort as one run on the main
# thread, while with small runs the `threads` pragma's workers sort them as the main thread
# scans the table. Building the two search indexes of a million residents took 2.3-2.8 s of
# wall time with 64 MB and 1.0-1.1 s with 2 MB (SQLite's default).
_SORT_CACHE_KIB = 2000


@contextlib.contextmanager
def _sort_cache(cursor: Any) -> Iterator[None]:
    cursor.execute("PRAGMA cache_size")
    saved = cursor.fetchone()[0]
    cursor.execute(f"PRAGMA cache_size = -{_SORT_CACHE_KIB}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(saved)}")


# Tables whose references a first load checks at the end (foreign keys off meanwhile).
_CHECKED_TABLES = ("registry_penduduk", "registry_keluarga", "registry_pendudukchange")
# The residents' reference to the import that wrote them (see BatchWriter.check_references).
_IMPORT_REFERENCE = ("registry_penduduk", "source_import_id")


def _text_id(value: Any) -> str:
    """A primary key as the text the database takes (hex on SQLite, canonical on PostgreSQL)."""
    if isinstance(value, uuid.UUID):
        return value.hex if connection.vendor == "sqlite" else str(value)
    return str(value)


def _comparable(value: Any) -> Any:
    """A stored value in the form of a checked row (dates as ISO text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class _Rollback(Exception):
    pass


# Connection settings for an import on SQLite (name, value during the import). Memory stays
# flat whatever the file size: pages read through the memory map would count towards the
# process's memory, and the sorts that rebuild indexes spill to temporary files on disk instead
# of memory; sorting uses a second thread (the reader process is done by then). The commit
# does not copy the write-ahead log back into the database (a few seconds for a first load
# of a million residents): a background thread does, see checkpoint_in_background().
_BULK_PRAGMAS = (("mmap_size", 0), ("temp_store", 1), ("threads", 2), ("wal_autocheckpoint", 0))

#: Checkpoints started by checkpoint_in_background() and not yet joined.
_checkpoints: list[threading.Thread] = []


def _checkpoint(path: str) -> None:
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=60)) as db:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error as exc:
        # The log stays; SQLite's next automatic checkpoint copies it instead.
        log.warning("background WAL checkpoint failed: %s", exc)


def checkpoint_in_background(path: str, threshold_bytes: int) -> threading.Thread | None:
    """Copy the write-ahead log of the SQLite database at ``path`` back into it, in a thread,
    when the log holds at least ``threshold_bytes``; the thread, or None when there is nothing
    to do.

    A passive checkpoint, as SQLite's automatic one: readers and writers go on meanwhile, and a
    transaction that commits meanwhile skips its own checkpoint instead of waiting. If the
    process ends first, the log is still complete and the next checkpoint copies it.
    """
    try:
        size = os.path.getsize(f"{path}-wal")
    except OSError:
        return None
    if size < threshold_bytes:
        return None
    thread = threading.Thread(target=_checkpoint, args=(path,), name="sipadu-wal-checkpoint")
    thread.daemon = True
    thread.start()
    _checkpoints.append(thread)
    return thread


def wait_for_checkpoints(timeout: float | None = None) -> None:
    """Join the checkpoints started by this process (a command does before it exits)."""
    while _checkpoints:
        _checkpoints.pop().join(timeout)


def _checkpoint_after_import() -> None:
    """After an import on a file database: the deferred checkpoint, once the log is bigger
    than the connection's own automatic checkpoint would allow."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        page_size = cursor.fetchone()[0]
    if pages > 0:
        checkpoint_in_background(str(connection.settings_dict["NAME"]), pages * page_size)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off meanwhile (reference counting still frees).

    An import allocates tens of millions of row tuples and strings, and every 700 allocations
    the collector scans the young ones, every tenth of those scans a middle generation: about
    0.8 s of a million-row import in the writer and 0.6-0.9 s in each reader, for a few
    thousand cyclic objects in all (collected when it is enabled again).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _bulk_settings() -> Iterator[None]:
    """:data:`_BULK_PRAGMAS` for the duration of an import, then the previous values."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    saved = []
    with connection.cursor() as cursor:
        for name, value in _BULK_PRAGMAS:
            cursor.execute(f"PRAGMA {name}")
            current = cursor.fetchone()
            if current is None:  # not a setting of this database (mmap_size in memory)
                continue
            saved.append((name, current[0]))
            cursor.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                for name, value in saved:
                    cursor.execute(f"PRAGMA {name} = {int(value)}")


def _foreign_keys_off_for_first_load() -> bool:
    """On SQLite, before a first load (no residents yet): foreign keys off; True when done.

    Checking three references per inserted row (and, with constraints deferred, looking
    members up for every new KK) costs more than checking all of them once at the end with
    ``PRAGMA foreign_key_check`` (:meth:`BatchWriter.check_references`). The pragma cannot
    change inside a transaction, so an import running inside a caller's transaction keeps
    checking row by row.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM registry_penduduk LIMIT 1")
        if cursor.fetchone():
            return False
    if connection.disable_constraint_checking():
        return True
    connection.enable_constraint_checking()
    return False


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
    columns, truncation) reject the whole file with ``fatal`` set. Big files are read and
    checked by a second process while this one writes (see :data:`PIPELINE_MIN_BYTES`).
    """
    result = ImportResult()
    try:
        kind = sniff_kind(path)
        encoding = "" if kind == "xlsx" else detect_encoding(path)
        header, rows, _fraction = read_xlsx(path) if kind == "xlsx" else read_csv(path, encoding)
        close = getattr(rows, "close", None)
        if close:
            close()
        layout = map_columns(header)
        layout.strict_width = kind == "csv"
    except FileError as exc:
        result.fatal = str(exc)
        return result
    result.ignored_columns = layout.ignored
    allowed = office.region_id + "." if office is not None else None
    desa_codes = set(Region.objects.filter(level=Region.Level.DESA).values_list("code", flat=True))
    present = set(layout.index) - {"desa_code", *DESA_PARTS} | {"desa_id"}
    fk_off = _foreign_keys_off_for_first_load()
    try:
        with gc_paused(), _bulk_settings(), transaction.atomic():
            bounds = coverage.AgeBounds.at(coverage.reference_date(lock=True))
            writer = BatchWriter(run, present, actor, bounds, fk_off=fk_off)
            writer.start()
            plan = Plan(
                path,
                kind,
                encoding,
                layout,
                desa_codes,
                allowed,
                bounds,
                dt.date.today(),
                BATCH_SIZE,
                compact=writer.first_load,
            )
            batches = None
            if os.path.getsize(path) >= PIPELINE_MIN_BYTES:
                batches = _forked_batches(reader_plans(plan))
            for batch in batches or read_batches(plan):
                result.rows_total += batch.total
                result.problems.extend(batch.problems)
                created, updated = writer.write(batch, result.problems)
                result.created += created
                result.updated += updated
                if progress:
                    progress(result.rows_total, batch.fraction)
            writer.finish()
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
    finally:
        if fk_off:
            connection.enable_constraint_checking()
    _checkpoint_after_import()
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
