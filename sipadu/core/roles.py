"""The roles (jabatan) the shipped SOPs name as executors, and who stands above whom.

The supervisor is the role told when a task runs past its standard time. Roles that sign
documents (TTE) need a second factor.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleSpec:
    """How a role slug is named and where it stands."""

    name: str
    supervisor: str | None = None
    external: bool = False
    second_factor: bool = False


CATALOGUE: dict[str, RoleSpec] = {
    "kepala-dinas": RoleSpec("Kepala Dinas", second_factor=True),
    "kabid-pelayanan": RoleSpec("Kepala Bidang Pelayanan", "kepala-dinas"),
    "kabid-piak": RoleSpec("Kepala Bidang PIAK dan Pemanfaatan Data", "kepala-dinas"),
    "kabid-capil": RoleSpec("Kepala Bidang Pencatatan Sipil", "kepala-dinas"),
    "kasi-pelayanan": RoleSpec("Kepala Seksi Pelayanan", "kabid-pelayanan"),
    "kasi-inovasi": RoleSpec("Kepala Seksi Kerjasama dan Inovasi Pelayanan", "kabid-piak"),
    "kasi-kip": RoleSpec("Kepala Seksi KIP", "kabid-capil"),
    "operator-layanan": RoleSpec("Operator Layanan", "kasi-pelayanan"),
    "operator-siak": RoleSpec("Operator SIAK", "kasi-pelayanan"),
    "pejabat-struktural": RoleSpec("Pejabat Struktural", "kepala-dinas"),
    "pelaksana-teknis": RoleSpec("ADB/Pelaksana Teknis", "kasi-inovasi"),
    "ketua-tim-sijarla": RoleSpec("Ketua Tim SIJARLA", "kabid-pelayanan"),
    "tim-sijarla": RoleSpec("Anggota Tim SIJARLA", "ketua-tim-sijarla"),
    "ketua-pelaksana-harian": RoleSpec("Ketua Pelaksana Harian", "kabid-piak"),
    "staf": RoleSpec("Staf", "kasi-kip"),
    "sekretariat": RoleSpec("Sekretariat", "kepala-dinas"),
    "masyarakat": RoleSpec("Masyarakat", external=True),
    "wali-nagari": RoleSpec("Wali Nagari / Kepala Desa", external=True),
    "lembaga-pengguna": RoleSpec("Lembaga Pengguna", external=True),
    "walikota": RoleSpec("Walikota / Bupati", external=True),
    "dinas-provinsi": RoleSpec("Dinas Dukcapil Provinsi", external=True),
}


def spec_for(code: str, fallback_name: str = "") -> RoleSpec:
    """The catalogue entry of a role, or a plain one named after the SOP's column."""
    return CATALOGUE.get(code) or RoleSpec(fallback_name or code.replace("-", " ").title())


def ensure_catalogue_roles(extra: dict[str, str] | None = None) -> None:
    """Create or update every catalogue role (and ``extra`` slug → name), supervisors last."""
    from .services import ensure_role

    specs = dict(CATALOGUE)
    for code, name in (extra or {}).items():
        specs.setdefault(code, RoleSpec(name))
    for code, spec in specs.items():
        ensure_role(code, spec.name, external=spec.external, second_factor=spec.second_factor)
    for code, spec in specs.items():
        ensure_role(
            code,
            spec.name,
            external=spec.external,
            second_factor=spec.second_factor,
            supervisor=spec.supervisor,
        )
