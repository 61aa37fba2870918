"""HMAC signatures of webhook bodies (no Django: the local fake uses it standalone)."""

from __future__ import annotations

import hashlib
import hmac


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether ``header`` is the right signature of ``body`` (constant-time comparison)."""
    if not app_secret or not header:
        return False
    return hmac.compare_digest(sign(body, app_secret).encode(), header.strip().encode())


def verify_token_valid(given: str | None, expected: str) -> bool:
    """Constant-time check of the ``hub.verify_token`` of the subscription handshake."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
