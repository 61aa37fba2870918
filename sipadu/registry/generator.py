"""A realistic synthetic population for any region, deterministic for a seed.

Families are drawn household by household (single people, couples, nuclear families, three
generations, single parents) in real desa codes of the region; the age structure follows from
the households. NIKs and KK numbers carry the kecamatan code, birth date (+40 for women) and a
serial. Document ownership follows national figures by age (akta kelahiran 0–17 about 93%,
KIA about 50%, KTP-el recorded about 97% of wajib KTP), and every desa gets a "lag" factor so
that some villages are clearly behind. Rows are written with plain multi-row inserts in one
transaction per kabupaten/kota; coverage counters are moved by the sum of the contributions.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sipadu.audit.services import record_event
from sipadu.wilayah.models import Region, RegionPopulation

from . import coverage
from .models import RECORD_FIELDS, Keluarga, MaritalStatus, Penduduk, Relationship
from .names import fold_name
from .nik import encode_kk, encode_nik
from .search import remember_names

FALLBACK_POPULATION = 100_000
BATCH = 5000

_RELIGIONS_DEFAULT = (
    ("islam", 87.0),
    ("kristen", 7.4),
    ("katolik", 3.1),
    ("hindu", 1.7),
    ("buddha", 0.7),
    ("konghucu", 0.05),
    ("kepercayaan", 0.05),
)
_RELIGIONS_BY_PROVINCE = {
    "51": (("hindu", 86.0), ("islam", 10.0), ("kristen", 2.0), ("katolik", 1.0), ("buddha", 1.0)),
    "53": (("katolik", 53.0), ("kristen", 36.0), ("islam", 10.0), ("hindu", 1.0)),
    "71": (("kristen", 64.0), ("islam", 31.0), ("katolik", 4.0), ("hindu", 1.0)),
    "62": (
        ("islam", 74.0),
        ("kristen", 17.0),
        ("katolik", 3.0),
        ("hindu", 5.0),
        ("kepercayaan", 1.0),
    ),
}
for _code in ("91", "92", "93", "94", "95", "96"):
    _RELIGIONS_BY_PROVINCE[_code] = (("kristen", 65.0), ("katolik", 18.0), ("islam", 17.0))

_OCCUPATIONS_ADULT = (
    ("Petani/Pekebun", 20),
    ("Wiraswasta", 16),
    ("Karyawan Swasta", 12),
    ("Buruh Harian Lepas", 10),
    ("Pedagang", 7),
    ("Mengurus Rumah Tangga", 15),
    ("Belum/Tidak Bekerja", 6),
    ("Pegawai Negeri Sipil", 4),
    ("Guru", 3),
    ("Nelayan/Perikanan", 2),
    ("Sopir", 2),
    ("Perawat", 1),
    ("Tukang Kayu", 2),
)
_BLOOD = (("-", 40), ("O", 24), ("A", 15), ("B", 17), ("AB", 4))
_BIRTH_CITIES = (
    "Jakarta",
    "Surabaya",
    "Bandung",
    "Medan",
    "Makassar",
    "Banjarmasin",
    "Padang",
    "Mataram",
    "Palangka Raya",
    "Yogyakarta",
    "Semarang",
    "Bukittinggi",
)


@dataclass
class DesaProfile:
    """A desa and how far behind it is on each document (1.0 = the national average)."""

    code: str
    kecamatan_digits: str
    lag: float


@dataclass
class GenerateResult:
    """How many residents and families were generated, and which kab/kota were skipped."""

    residents: int = 0
    families: int = 0
    skipped: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)


def _weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> Callable[[], str]:
    values = [v for v, _w in table]
    cumulative = []
    total = 0.0
    for _v, weight in table:
        total += weight
        cumulative.append(total)

    def pick() -> str:
        return rng.choices(values, cum_weights=cumulative)[0]

    return pick


class NamePool:
    """Indonesian first and family names drawn once from Faker id_ID (Faker is slow per call)."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        fake = Faker("id_ID")
        fake.seed_instance(seed)
        self.male = sorted({fake.first_name_male() for _ in range(600)})
        self.female = sorted({fake.first_name_female() for _ in range(600)})
        self.last_male = sorted({fake.last_name_male() for _ in range(300)})
        self.last_female = sorted({fake.last_name_female() for _ in range(300)})
        self.last = self.last_male

    def name(self, rng: random.Random, sex: str) -> str:
        first = rng.choice(self.male if sex == "L" else self.female)
        roll = rng.random()
        if roll < 0.35:
            return first
        if roll < 0.55:
            second = rng.choice(self.male if sex == "L" else self.female)
            return f"{first} {second}" if second != first else first
        return f"{first} {rng.choice(self.last_male if sex == 'L' else self.last_female)}"


def target_population(region: Region, scale: float) -> dict[str, int]:
    """Residents to generate per kab/kota under (or containing) ``region``."""
    if region.level == Region.Level.PROVINCE:
        kabkota = list(Region.objects.filter(parent=region).values_list("code", flat=True))
    elif region.level == Region.Level.KABKOTA:
        kabkota = [region.code]
    else:
        kabkota = [".".join(region.code.split(".")[:2])]
    totals = dict(
        RegionPopulation.objects.filter(region_id__in=kabkota).values_list("region_id", "total")
    )
    out = {}
    for code in kabkota:
        total = totals.get(code, FALLBACK_POPULATION) * scale
        if region.level > Region.Level.KABKOTA:
            low, high = coverage.code_range(code)
            share_low, share_high = coverage.code_range(region.code)
            all_desa = Region.objects.filter(code__gte=low, code__lt=high, level=4).count() or 1
            inside = Region.objects.filter(
                code__gte=share_low, code__lt=share_high, level=4
            ).count()
            if region.level == Region.Level.DESA:
                inside = 1
            total = total * inside / all_desa
        out[code] = max(1, round(total))
    return out


class _Builder:
    """Generates the families of one kab/kota and writes them."""

    def __init__(
        self, kab: str, region: Region, seed: int, today: dt.date, names: NamePool, kab_name: str
    ) -> None:
        self.rng = random.Random(f"{seed}:{kab}")
        rng = self.rng
        self.today = today
        self.names = names
        self.kab = kab
        self.kab_name = kab_name.replace("Kabupaten ", "").replace("Kota ", "").title()
        low, high = coverage.code_range(region.code if region.level > 2 else kab)
        desa_codes = list(
            Region.objects.filter(code__gte=low, code__lt=high, level=4)
            .order_by("code")
            .values_list("code", flat=True)
        )
        if region.level == Region.Level.DESA:
            desa_codes = [region.code]
        self.desa: list[DesaProfile] = []
        weights = []
        for code in desa_codes:
            roll = rng.random()
            # Most villages near the average, a fifth somewhat behind, one in ten far behind.
            if roll < 0.7:
                lag = rng.uniform(0.3, 0.9)
            elif roll < 0.9:
                lag = rng.uniform(1.0, 2.0)
            else:
                lag = rng.uniform(3.0, 5.0)
            self.desa.append(DesaProfile(code, code.replace(".", "")[:6], lag / 1.12))
            weights.append(rng.lognormvariate(0, 0.6))
        self.cum_weights = []
        total = 0.0
        for w in weights:
            total += w
            self.cum_weights.append(total)
        table = _RELIGIONS_BY_PROVINCE.get(kab[:2], _RELIGIONS_DEFAULT)
        self.religion = _weighted(rng, table)
        self.occupation = _weighted(rng, _OCCUPATIONS_ADULT)
        self.blood = _weighted(rng, _BLOOD)
        self.nik_serial: dict[str, int] = {}
        self.kk_serial: dict[str, int] = {}
        self.doc_serial = 0
        low_nik = kab.replace(".", "")
        self.used = set(
            Penduduk.objects.filter(nik__gte=low_nik, nik__lt=low_nik + ":").values_list(
                "nik", flat=True
            )
        )
        self.used_kk = set(
            Keluarga.objects.filter(no_kk__gte=low_nik, no_kk__lt=low_nik + ":").values_list(
                "no_kk", flat=True
            )
        )
        self.people: list[dict[str, Any]] = []
        self.families: list[tuple[Any, ...]] = []

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def birth_date(self, age: int) -> dt.date:
        days = int(age * 365.25) + self.rng.randrange(365)
        return self.today - dt.timedelta(days=days)

    def nik(self, kec: str, born: dt.date, sex: str) -> str:
        key = encode_nik(kec, born, sex, 0)[:12]
        serial = self.nik_serial.get(key, 0)
        while True:
            serial += 1
            nik = f"{key}{serial:04d}"
            if nik not in self.used:
                break
        self.nik_serial[key] = serial
        return nik

    def kk(self, kec: str, issued: dt.date) -> str:
        key = encode_kk(kec, issued, 0)[:12]
        serial = self.kk_serial.get(key, 0)
        while True:
            serial += 1
            number = f"{key}{serial:04d}"
            if number not in self.used_kk:
                break
        self.kk_serial[key] = serial
        return number

    def doc_number(self, kind: str, date: dt.date) -> str:
        self.doc_serial += 1
        return f"{self.kab.replace('.', '')}-{kind}-{date:%d%m%Y}-{self.doc_serial:07d}"

    def person(
        self,
        desa: DesaProfile,
        *,
        sex: str,
        age: int,
        relationship: Any,
        marital: Any,
        father: str = "",
        mother: str = "",
        kk: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        born = self.birth_date(age)
        full_name = name or self.names.name(rng, sex)
        lag = desa.lag

        def chance(target: float) -> bool:
            return rng.random() < max(0.05, 1.0 - (1.0 - target) * lag)

        if age <= 17:
            akta = chance(0.93)
        elif age <= 40:
            akta = chance(0.80)
        elif age <= 60:
            akta = chance(0.55)
        else:
            akta = chance(0.30)
        wajib = age >= 17 or marital != MaritalStatus.BELUM_KAWIN
        recorded = wajib and chance(0.97)
        if age < 5:
            education = "tidak_sekolah"
            job = "Belum/Tidak Bekerja"
        elif age < 18:
            education = "belum_tamat_sd" if age < 12 else ("sd" if age < 15 else "sltp")
            job = "Pelajar/Mahasiswa"
        else:
            education = rng.choice(("sd", "sltp", "slta", "slta", "slta", "d3", "s1", "s1", "s2"))
            job = "Pensiunan" if age > 62 and rng.random() < 0.3 else self.occupation()
        row: dict[str, Any] = {
            "id": self.uuid(),
            "nik": self.nik(desa.kecamatan_digits, born, sex),
            "keluarga_id": kk,
            "full_name": full_name,
            "sex": sex,
            "birth_place": self.kab_name if rng.random() < 0.8 else rng.choice(_BIRTH_CITIES),
            "birth_date": born,
            "religion": "",
            "marital_status": marital,
            "relationship": relationship,
            "education": education,
            "occupation": job,
            "blood_type": self.blood(),
            "nationality": "WNI",
            "father_name": father,
            "mother_name": mother,
            "is_alive": True,
            "death_date": None,
            "desa_id": desa.code,
            "akta_kelahiran_no": self.doc_number("LT", born) if akta else "",
            "akta_kelahiran_date": born + dt.timedelta(days=rng.randrange(1, 400))
            if akta
            else None,
            "ktp_el_recorded": recorded,
            "ktp_el_printed": recorded and rng.random() < 0.96,
            "kia": age < 17 and marital == MaritalStatus.BELUM_KAWIN and chance(0.5),
            "akta_kematian_no": "",
            "akta_perkawinan_no": "",
            "akta_perceraian_no": "",
        }
        if row["akta_kelahiran_date"] and row["akta_kelahiran_date"] > self.today:
            row["akta_kelahiran_date"] = self.today
        # A few residents died and are still on the register (akta kematian often missing).
        if rng.random() < (0.05 if age > 65 else 0.002):
            row["is_alive"] = False
            row["death_date"] = self.today - dt.timedelta(days=rng.randrange(1, 1000))
            if row["death_date"] < born:
                row["death_date"] = born
            if chance(0.45):
                row["akta_kematian_no"] = self.doc_number("KM", row["death_date"])
        self.people.append(row)
        return row

    def household(self) -> int:
        """One family on one KK; returns the number of people."""
        rng = self.rng
        desa = self.desa[rng.choices(range(len(self.desa)), cum_weights=self.cum_weights)[0]]
        kind = rng.random()
        head_age = int(rng.triangular(19, 82, 30))
        issued = self.today - dt.timedelta(days=rng.randrange(30, 365 * min(20, head_age - 17)))
        in_kk = rng.random() > 0.005
        kk = self.kk(desa.kecamatan_digits, issued) if in_kk else None
        start = len(self.people)
        if kind < 0.08:  # single person
            sex = "L" if rng.random() < 0.5 else "P"
            marital = (
                MaritalStatus.BELUM_KAWIN
                if head_age < 40
                else rng.choice((MaritalStatus.CERAI_MATI, MaritalStatus.CERAI_HIDUP))
            )
            self.person(
                desa,
                sex=sex,
                age=head_age,
                relationship=Relationship.KEPALA,
                marital=marital,
                kk=kk,
            )
        else:
            head_age = max(head_age, 21)
            single_parent = kind > 0.92
            head_sex = "P" if single_parent and rng.random() < 0.7 else "L"
            marital = (
                rng.choice((MaritalStatus.CERAI_HIDUP, MaritalStatus.CERAI_MATI))
                if single_parent
                else MaritalStatus.KAWIN
            )
            head = self.person(
                desa,
                sex=head_sex,
                age=head_age,
                relationship=Relationship.KEPALA,
                marital=marital,
                kk=kk,
            )
            if marital == MaritalStatus.CERAI_HIDUP and rng.random() < 0.4:
                head["akta_perceraian_no"] = self.doc_number("CR", self.today)
            father, mother = head["full_name"], ""
            mother_age = head_age
            if not single_parent:
                wife_age = max(18, head_age - rng.randint(-2, 8))
                wife = self.person(
                    desa,
                    sex="P",
                    age=wife_age,
                    relationship=Relationship.ISTRI,
                    marital=MaritalStatus.KAWIN,
                    kk=kk,
                )
                if rng.random() < 0.6:
                    number = self.doc_number("KW", issued)
                    head["akta_perkawinan_no"] = wife["akta_perkawinan_no"] = number
                mother, mother_age = wife["full_name"], wife_age
            elif head_sex == "P":
                father, mother = "", head["full_name"]
            if kind >= 0.20:  # with children
                children = min(6, 1 + int(rng.expovariate(0.7)))
                for _ in range(children):
                    age = mother_age - rng.randint(18, 40)
                    if age < 0:
                        continue
                    sex = "L" if rng.random() < 0.51 else "P"
                    child_marital = (
                        MaritalStatus.KAWIN
                        if age >= 22 and rng.random() < 0.25
                        else MaritalStatus.BELUM_KAWIN
                    )
                    self.person(
                        desa,
                        sex=sex,
                        age=age,
                        relationship=Relationship.ANAK,
                        marital=child_marital,
                        kk=kk,
                        father=father,
                        mother=mother,
                    )
            if 0.80 <= kind < 0.92 and head_age + 22 <= 95:  # a parent lives with them
                self.person(
                    desa,
                    sex="P" if rng.random() < 0.7 else "L",
                    age=head_age + rng.randint(20, 32),
                    relationship=Relationship.ORANG_TUA,
                    marital=MaritalStatus.CERAI_MATI,
                    kk=kk,
                )
        members = self.people[start:]
        religion = self.religion()
        for member in members:
            member["religion"] = religion
        if kk is not None:
            self.families.append(
                (
                    kk,
                    desa.code,
                    members[0]["id"],
                    rng.randint(1, 15),
                    rng.randint(1, 8),
                    f"Jl. {rng.choice(self.names.last)} No. {rng.randint(1, 150)}",
                )
            )
        return len(members)


_PERSON_COLUMNS = ("id", *RECORD_FIELDS)


def _flush(builder: _Builder, ref: dt.date) -> tuple[int, int]:
    """Insert the families and people built so far; move the coverage counters."""
    ops = connection.ops
    pk = Penduduk._meta.pk
    assert pk is not None
    now = ops.adapt_datetimefield_value(timezone.now())
    date_cols = {"birth_date", "death_date", "akta_kelahiran_date"}
    deltas = coverage.new_deltas()
    people = []
    for row in builder.people:
        row["name_folded"] = fold_name(row["full_name"])
        values = []
        for name in _PERSON_COLUMNS:
            value = row[name]
            if name == "id":
                value = pk.get_db_prep_value(value, connection)
            elif name in date_cols:
                value = ops.adapt_datefield_value(value)
            values.append(value)
        people.append((*values, row["name_folded"], now, now))
        coverage.delta(deltas, None, row, ref)
    families = [
        (
            pk.get_db_prep_value(builder.uuid(), connection),
            kk,
            desa,
            pk.get_db_prep_value(head, connection),
            f"{rt:03d}",
            f"{rw:03d}",
            street,
            now,
            now,
        )
        for kk, desa, head, rt, rw, street in builder.families
    ]
    columns = [c if c != "keluarga_id" else "no_kk" for c in _PERSON_COLUMNS]
    columns += ["name_folded", "created_at", "updated_at"]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO registry_keluarga (id, no_kk, desa_id, kepala_id, rt, rw, street, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            families,
        )
        cursor.executemany(
            f"INSERT INTO registry_penduduk ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            people,
        )
    coverage.apply_deltas(deltas)
    remember_names(row["name_folded"] for row in builder.people)
    counts = len(builder.people), len(builder.families)
    builder.people, builder.families = [], []
    return counts


def populated(kab: str) -> bool:
    """Whether a kab/kota already has residents (the generator then skips it)."""
    low, high = coverage.code_range(kab)
    return Penduduk.objects.filter(desa_id__gte=low, desa_id__lt=high).exists()


def generate(
    region_code: str,
    *,
    scale: float = 0.01,
    seed: int = 1,
    today: dt.date | None = None,
    actor: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> GenerateResult:
    """Generate residents for ``region_code`` at ``scale`` × the published population.

    Kab/kota that already have residents are skipped, so running it twice adds nothing.
    """
    from sipadu.wilayah.services import get_region

    region = get_region(region_code)
    if region is None:
        raise ValueError(f"unknown region code {region_code!r}")
    if not 0 < scale <= 2:
        raise ValueError("scale must be above 0 and at most 2")
    today = today or dt.date.today()
    names = NamePool(seed)
    result = GenerateResult()
    kab_names = dict(
        Region.objects.filter(level=2, code__startswith=region.code[:2]).values_list("code", "name")
    )
    for kab, target in sorted(target_population(region, scale).items()):
        if populated(kab if region.level <= 2 else region.code):
            result.skipped.append(kab)
            continue
        with transaction.atomic():
            ref = coverage.reference_date(lock=True)
            builder = _Builder(kab, region, seed, today, names, kab_names.get(kab, kab))
            if not builder.desa:
                result.skipped.append(kab)
                continue
            made = 0
            while made < target:
                made += builder.household()
                if len(builder.people) >= BATCH:
                    people, families = _flush(builder, ref)
                    result.residents += people
                    result.families += families
                    if progress:
                        progress(kab, made, target)
            people, families = _flush(builder, ref)
            result.residents += people
            result.families += families
            record_event(
                actor,
                "registry.generate",
                None,
                object_type="wilayah.region",
                object_id=kab,
                data={"scale": scale, "seed": seed, "residents": made},
            )
        result.done.append(kab)
        if progress:
            progress(kab, made, target)
    return result
