"""Office and role helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sipadu.audit.services import record_event
from sipadu.wilayah.models import Region

from .models import Membership, Office, Role, User, zone_for_region


def roles_of(user: Any, office: Office) -> set[str]:
    """Codes of the roles ``user`` holds in ``office``."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Membership.objects.filter(user=user, office=office, active=True).values_list(
            "role__code", flat=True
        )
    )


def users_with_role(office: Office, role_code: str) -> list[User]:
    """Active users holding ``role_code`` in ``office``."""
    return list(
        User.objects.filter(
            memberships__office=office,
            memberships__role__code=role_code,
            memberships__active=True,
            is_active=True,
        ).distinct()
    )


@transaction.atomic
def ensure_office(code: str, name: str, region_code: str, *, actor: Any = None) -> Office:
    """Create (or return) the Dinas of a province or kabupaten/kota region."""
    region = Region.objects.get(code=region_code)
    level = Office.Level.PROVINCE if region.level == Region.Level.PROVINCE else Office.Level.KABKOTA
    office, created = Office.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "region": region,
            "level": level,
            "timezone": zone_for_region(region_code),
        },
    )
    if created:
        record_event(actor, "core.office.create", office, office=office)
    return office


@transaction.atomic
def ensure_role(
    code: str,
    name: str,
    *,
    external: bool = False,
    supervisor: str | None = None,
    second_factor: bool = False,
) -> Role:
    """Create or update a role (jabatan) by its code."""
    role, _ = Role.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "external": external,
            "requires_second_factor": second_factor,
            "supervisor": Role.objects.filter(code=supervisor).first() if supervisor else None,
        },
    )
    return role


@transaction.atomic
def grant_role(user: User, office: Office, role: Role, *, actor: Any = None) -> Membership:
    """Give ``user`` the role ``role`` in ``office`` (audited)."""
    membership, created = Membership.objects.get_or_create(user=user, office=office, role=role)
    if created or not membership.active:
        membership.active = True
        membership.save(update_fields=["active"])
        record_event(
            actor,
            "core.membership.grant",
            membership,
            office=office,
            data={"role": role.code, "user": str(user.pk)},
        )
    return membership
