"""WhatsApp Cloud API configuration, read from the environment at call time.

Reading at call time (not at import) lets tests and the demo point the client at a local
fake by setting the variables, and lets an operator rotate a token without a code change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"


@dataclass(frozen=True)
class WhatsAppConfig:
    """The settings of one deployment's WhatsApp Business account."""

    app_secret: str
    verify_token: str
    access_token: str
    phone_number_id: str
    graph_url: str
    graph_version: str
    # Approved template used outside the 24-hour window; its body has one {{1}} parameter.
    fallback_template: str
    template_language: str
    timeout_s: float
    max_media_bytes: int

    @property
    def can_send(self) -> bool:
        """Whether outbound messages can be sent at all."""
        return bool(self.access_token and self.phone_number_id)


def load() -> WhatsAppConfig:
    """The configuration from the ``SIPADU_WHATSAPP_*`` environment variables."""
    env = os.environ
    return WhatsAppConfig(
        app_secret=env.get("SIPADU_WHATSAPP_APP_SECRET", ""),
        verify_token=env.get("SIPADU_WHATSAPP_VERIFY_TOKEN", ""),
        access_token=env.get("SIPADU_WHATSAPP_ACCESS_TOKEN", ""),
        phone_number_id=env.get("SIPADU_WHATSAPP_PHONE_NUMBER_ID", ""),
        graph_url=(env.get("SIPADU_WHATSAPP_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/"),
        graph_version=env.get("SIPADU_WHATSAPP_GRAPH_VERSION") or DEFAULT_GRAPH_VERSION,
        fallback_template=env.get("SIPADU_WHATSAPP_FALLBACK_TEMPLATE") or "sipadu_pemberitahuan",
        template_language=env.get("SIPADU_WHATSAPP_TEMPLATE_LANGUAGE") or "id",
        timeout_s=float(env.get("SIPADU_WHATSAPP_TIMEOUT_S") or 10),
        max_media_bytes=int(env.get("SIPADU_WHATSAPP_MAX_MEDIA_BYTES") or 16 * 1024 * 1024),
    )
