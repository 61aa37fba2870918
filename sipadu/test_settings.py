"""Settings for the test suite: plain HTTP, fast hashing, jobs run inline, private data dir."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SIPADU_HTTPS", "0")
os.environ.setdefault("SIPADU_JOBS_IMMEDIATE", "1")
os.environ.setdefault("SIPADU_DATA_DIR", tempfile.mkdtemp(prefix="sipadu-test-"))

from sipadu.settings import *  # noqa: F403
from sipadu.settings import DATABASES

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
