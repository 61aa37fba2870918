import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from sipadu.audit.models import AuditEvent
from sipadu.audit.services import record_event, verify

pytestmark = pytest.mark.django_db


def _chain(n=5):
    return [record_event(None, "test.event", data={"i": i}, object_id=str(i)) for i in range(n)]


def test_events_form_a_verifiable_chain():
    events = _chain()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[1].prev_hash == events[0].hash
    assert list(verify()) == []
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "utuh: 5" in out.getvalue()


def test_events_cannot_be_changed_or_deleted_through_the_orm():
    event = _chain(1)[0]
    event.action = "other"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_altered_entry_is_detected():
    _chain()
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET action = 'forged' WHERE seq = 3")
    problems = list(verify())
    assert [p.seq for p in problems] == [3]
    assert "altered" in problems[0].message


def test_deleted_entry_is_detected():
    _chain()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditevent WHERE seq = 2")
    problems = list(verify())
    assert problems and problems[0].seq == 2 and "missing" in problems[0].message


def test_deleted_last_entry_is_detected_by_the_head():
    _chain()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditevent WHERE seq = 5")
    assert any("head" in p.message for p in verify())


def test_verify_command_exits_non_zero_when_broken():
    _chain(2)
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET object_id = 'x' WHERE seq = 1")
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify", stdout=StringIO(), stderr=StringIO())
    assert exc.value.code == 1


def test_actor_and_address_are_recorded(rf, make_officer):
    user = make_officer("operator-layanan")
    request = rf.get("/", REMOTE_ADDR="10.1.2.3")
    event = record_event(user, "test.read", user, request=request)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == user and stored.ip == "10.1.2.3"
    assert stored.object_type == "core.user" and stored.compute_hash() == stored.hash


def test_sipadu_help_lists_project_commands():
    out = subprocess.run(
        [sys.executable, "-m", "sipadu.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in ("audit", "wilayah", "demo", "serve", "sop"):
        assert name in out
