import logging
import os
import subprocess
import sys

import pytest
from django.urls import reverse

from sipadu.core.logging import PersonalDataFilter, mask
from sipadu.core.models import zone_for_region
from sipadu.settings import database_from_url


def test_database_url_is_parsed():
    db = database_from_url("postgres://u:p%40ss@db.example:5433/sipadu")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.example",
        "5433",
        "sipadu",
    )
    with pytest.raises(ValueError, match="mysql"):
        database_from_url("mysql://x/y")


def test_time_zone_follows_the_province():
    assert zone_for_region("63.11") == "Asia/Makassar"  # Kalimantan Selatan: WITA
    assert zone_for_region("62.71") == "Asia/Jakarta"  # Kalimantan Tengah: WIB
    assert zone_for_region("94.01") == "Asia/Jayapura"  # Papua Tengah: WIT
    assert zone_for_region("13") == "Asia/Jakarta"


def test_personal_numbers_are_masked_in_logs():
    assert mask("NIK 6311014107900001 hp 081234567890") == "NIK [NIK] hp [telepon]"
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "cari %s", ("6311014107900001",), None
    )
    PersonalDataFilter().filter(record)
    assert record.getMessage() == "cari [NIK]"


def _run(env_extra, *args):
    env = {**os.environ, **env_extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "-m", "sipadu.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_secret_key_is_generated_into_the_data_dir(tmp_path):
    result = _run({"SIPADU_DATA_DIR": str(tmp_path)}, "check")
    assert result.returncode == 0, result.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    result = _run(
        {
            "SIPADU_DATA_DIR": str(tmp_path),
            "SIPADU_HTTPS": "1",
            "SIPADU_DEBUG": "0",
            "SIPADU_SITE_URL": "https://sipadu.example.go.id",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_need_login_and_render_in_indonesian(client, make_officer):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    login = client.get(reverse("login"))
    assert "Masuk ke SIPADU" in login.content.decode()
    user = make_officer("operator-layanan")
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    assert "Kabupaten Balangan" in body and "WITA" in body


@pytest.mark.django_db
def test_english_is_available(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200


@pytest.mark.django_db
def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_login_is_rate_limited_per_client(client):
    from django.core.cache import cache

    cache.clear()
    url = reverse("login")
    statuses = [
        client.post(url, {"username": "x", "password": "wrong"}, REMOTE_ADDR="10.9.9.9").status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    limited = client.post(url, {"username": "x", "password": "y"}, REMOTE_ADDR="10.9.9.9")
    assert "Terlalu banyak percobaan" in limited.content.decode()
    assert int(limited["Retry-After"]) > 0
    other = client.post(url, {"username": "x", "password": "y"}, REMOTE_ADDR="10.9.9.8")
    assert other.status_code == 200


def test_pages_render_with_the_production_static_storage(tmp_path):
    """collectstatic + the hashed manifest storage (as served by `sipadu serve`)."""
    env = {"SIPADU_DATA_DIR": str(tmp_path), "SIPADU_HTTPS": "0"}
    collected = _run(env, "collectstatic", "--noinput", "-v0")
    assert collected.returncode == 0, collected.stderr
    script = (
        "import django;django.setup();"
        "from django.test import Client;"
        "r=Client(HTTP_HOST='127.0.0.1').get('/masuk/');"
        "print(r.status_code, 'sipadu/sipadu.' in r.content.decode())"
    )
    env_run = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "sipadu.settings"}
    env_run.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    migrate = _run(env, "migrate", "-v0")
    assert migrate.returncode == 0, migrate.stderr
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env_run, timeout=120
    )
    assert out.stdout.split() == ["200", "True"], out.stdout + out.stderr


def test_static_files_are_collected_only_when_their_sources_change(tmp_path, settings):
    from sipadu.core.staticfiles import MARKER, collect_if_changed

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "office.css").write_text("body { color: navy; }")
    settings.STATIC_ROOT = str(tmp_path / "collected")
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, str(extra)]
    assert collect_if_changed() is True
    assert (tmp_path / "collected" / "office.css").read_text() == "body { color: navy; }"
    assert (tmp_path / "collected" / MARKER).exists()
    assert collect_if_changed() is False  # nothing changed: nothing collected
    (extra / "office.css").write_text("body { color: maroon; }")
    later = (extra / "office.css").stat().st_mtime + 5  # collectstatic compares whole seconds
    os.utime(extra / "office.css", (later, later))
    assert collect_if_changed() is True
    assert (tmp_path / "collected" / "office.css").read_text() == "body { color: maroon; }"
    (tmp_path / "collected" / MARKER).unlink()  # an interrupted run is collected again
    assert collect_if_changed() is True
