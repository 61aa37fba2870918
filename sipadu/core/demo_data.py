"""Demo step: the five seed offices with one user per role their SOPs name."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker

from sipadu.sop.engine import load_directory

from . import demo
from .models import Role, User
from .roles import ensure_catalogue_roles
from .services import ensure_office, grant_role

OFFICES = {
    "balangan": ("Dinas Kependudukan dan Pencatatan Sipil Kabupaten Balangan", "63.11"),
    "bima": ("Dinas Kependudukan dan Pencatatan Sipil Kota Bima", "52.72"),
    "solok": ("Dinas Kependudukan dan Pencatatan Sipil Kabupaten Solok", "13.02"),
    "palangkaraya": ("Dinas Kependudukan dan Pencatatan Sipil Kota Palangka Raya", "62.71"),
    "sumbar": ("Dinas Kependudukan dan Pencatatan Sipil Provinsi Sumatera Barat", "13"),
}
# A fixed TOTP key so the person trying the demo can add it to an authenticator app.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238 test key
DEMO_TOTP_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@demo.register("kantor dan pengguna", order=10)
@transaction.atomic
def load(progress: Callable[[str], None]) -> list[str]:
    """Create the offices, every role, and a user per role used by each office's SOPs."""
    sops = load_directory()
    ensure_catalogue_roles({ex.role: ex.name for sop in sops for ex in sop.executors})
    faker = Faker("id_ID")
    faker.seed_instance(2026)
    lines = ["Log-in demo (kata sandi semua pengguna: " + demo.DEMO_PASSWORD + "):"]
    for code, (name, region) in OFFICES.items():
        office = ensure_office(code, name, region)
        roles = sorted({role for sop in sops if sop.office == region for role in sop.roles})
        progress(f"{office.name}: {len(roles)} peran")
        for role_code in roles:
            role = Role.objects.get(code=role_code)
            username = f"{code}.{role_code}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username,
                    password=demo.DEMO_PASSWORD,
                    first_name=faker.first_name(),
                    last_name=faker.last_name(),
                )
            grant_role(user, office, role)
            if role.requires_second_factor:
                TOTPDevice.objects.get_or_create(
                    user=user, defaults={"name": "demo", "confirmed": True, "key": DEMO_TOTP_KEY}
                )
            lines.append(f"  {username:<40} {role.name} — {office.name}")
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User.objects.create_superuser("admin", password=demo.DEMO_PASSWORD)
        TOTPDevice.objects.create(user=admin, name="demo", confirmed=True, key=DEMO_TOTP_KEY)
    lines.append("  admin (halaman /admin/)")
    lines.append(
        "Kepala Dinas dan admin memakai faktor kedua (TOTP). Kunci demo untuk aplikasi "
        f"autentikator: {DEMO_TOTP_BASE32}"
    )
    return lines
