"""Start the local fake WhatsApp Cloud API next to the web server, for demos.

``sipadu serve`` calls :func:`start_fake_if_configured` before it starts gunicorn and the
worker. When ``SIPADU_WHATSAPP_FAKE_PORT`` is set it fills in the WhatsApp settings the demo
needs (in ``os.environ``, so the web and worker processes inherit them), points the Graph URL
at the fake and starts the fake as a child process. Otherwise it does nothing.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

#: Values given to unset variables in demo mode (the fake accepts whatever token it is told).
DEMO_DEFAULTS = {
    "SIPADU_WHATSAPP_ACCESS_TOKEN": "demo-access-token",
    "SIPADU_WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "SIPADU_WHATSAPP_VERIFY_TOKEN": "demo-verify-token",
    "SIPADU_WHATSAPP_SIMULATOR": "1",
}


def start_fake_if_configured(bind: str = "127.0.0.1:8000") -> subprocess.Popen[bytes] | None:
    """Start the fake Cloud API when ``SIPADU_WHATSAPP_FAKE_PORT`` is set; returns its process.

    ``bind`` is the web server's address: the fake posts its status callbacks (sent,
    delivered) to ``http://<bind>/webhooks/whatsapp/``. The caller stops the process with
    the others (SIGTERM).
    """
    port = os.environ.get("SIPADU_WHATSAPP_FAKE_PORT", "").strip()
    if not port:
        return None
    if not port.isdigit():
        raise ValueError("SIPADU_WHATSAPP_FAKE_PORT must be a port number")
    for key, value in DEMO_DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("SIPADU_WHATSAPP_APP_SECRET", secrets.token_hex(16))
    # Demo mode is explicit: the Graph API is the fake, whatever else was configured.
    os.environ["SIPADU_WHATSAPP_GRAPH_URL"] = f"http://127.0.0.1:{port}"
    host = bind.rsplit(":", 1)[0] or "127.0.0.1"
    web_port = bind.rsplit(":", 1)[-1]
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 (reading the bind address, not binding)
        host = "127.0.0.1"
    command = [
        sys.executable,
        "-m",
        "sipadu.messaging.types.whatsapp.fake",
        "--port",
        port,
        "--token",
        os.environ["SIPADU_WHATSAPP_ACCESS_TOKEN"],
        "--app-secret",
        os.environ["SIPADU_WHATSAPP_APP_SECRET"],
        "--webhook-url",
        f"http://{host}:{web_port}/webhooks/whatsapp/",
        "--auto-status",
    ]
    return subprocess.Popen(command, env=dict(os.environ))
