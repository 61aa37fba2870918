"""Settings for the test suite: plain HTTP, fast hashing, jobs run inline, private data dir."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SIPADU_HTTPS", "0")
os.environ.setdefault("SIPADU_JOBS_IMMEDIATE", "1")
if "SIPADU_DATA_DIR" not in os.environ:
    os.environ["SIPADU_DATA_DIR"] = tempfile.mkdtemp(prefix="sipadu-test-")
    os.environ["SIPADU_TEST_DATA_ROOT"] = os.environ["SIPADU_DATA_DIR"]
# pytest-xdist workers inherit the controller's environment: each gets its own data directory
# under the one made above (keys, files, the demo CA), so that parallel workers never write
# the same file. A directory a test hands to a subprocess is left as it is.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ["SIPADU_DATA_DIR"] == os.environ.get("SIPADU_TEST_DATA_ROOT"):
    os.environ["SIPADU_DATA_DIR"] = os.path.join(os.environ["SIPADU_DATA_DIR"], _worker)
    os.makedirs(os.environ["SIPADU_DATA_DIR"], exist_ok=True)

from sipadu.settings import *  # noqa: F403, E402
from sipadu.settings import DATABASES  # noqa: E402

# Argon2 stays the production hasher; tests use a fast one so personas are cheap to create.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.path.join(os.environ["SIPADU_DATA_DIR"], "files")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if str(DATABASES["default"]["ENGINE"]).endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
