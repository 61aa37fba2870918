"""The WhatsApp simulator page of the demo: chat with the service as a citizen would.

What is typed (or the photo/PDF picked) is turned into a webhook delivery in Meta's shape
(:mod:`sipadu.messaging.types.whatsapp.payloads`), signed with the app secret and POSTed over
HTTP to the real webhook URL — so the message takes the production path: signature check,
dedup, worker, conversation. Files are first uploaded to the local fake Cloud API, so the real
media code downloads and checks them. Replies are read back from the fake's record of what it
was asked to send (``GET /_fake/sent``), polled by htmx.

Only for demos and training: enabled by ``SIPADU_WHATSAPP_SIMULATOR=1`` or ``DEBUG`` (404
otherwise), for signed-in staff or officers of an office. The simulated citizen's number is
kept in the session, never in a URL. It sends nothing (409) unless ``SIPADU_WHATSAPP_GRAPH_URL``
points at a loopback host: the replies to the simulated number go out through the configured
Graph API, which must be the local fake, never Meta's real one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sipadu.core.checks import is_local_host
from sipadu.messaging.error_codes import MessagingError
from sipadu.messaging.models import InboundMessage
from sipadu.messaging.types.whatsapp import config, payloads
from sipadu.messaging.types.whatsapp.channel import normalize_number
from sipadu.messaging.types.whatsapp.client import GraphClient, GraphError
from sipadu.messaging.types.whatsapp.fake import post_webhook

SESSION_KEY = "wa-simulator-number"
#: The simulated citizen's number until another is chosen (a reserved-looking test number).
DEFAULT_NUMBER = "6281100000001"
#: Largest file the simulator forwards (the Cloud API's own limit for documents is higher).
MAX_FILE_BYTES = 16 * 1024 * 1024
#: Messages shown in the transcript (the latest ones).
TRANSCRIPT_LIMIT = 80

View = Callable[..., HttpResponse]


def enabled() -> bool:
    """Whether the simulator is switched on (env flag or DEBUG)."""
    flag = os.environ.get("SIPADU_WHATSAPP_SIMULATOR", "").strip().lower()
    return flag in {"1", "true", "yes", "on"} or bool(settings.DEBUG)


def allowed(user: Any) -> bool:
    """Staff, or an officer holding an active role in some office."""
    if user.is_staff or user.is_superuser:
        return True
    return bool(user.memberships.filter(active=True).exists())


def simulator_view(view: View) -> View:
    """404 unless enabled, log-in required, 403 unless staff or an officer."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not enabled():
            raise Http404
        return _checked(request, *args, **kwargs)

    @login_required
    def _checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not allowed(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def current_number(request: HttpRequest) -> str:
    """The simulated citizen's WhatsApp number (from the session)."""
    return str(request.session.get(SESSION_KEY) or DEFAULT_NUMBER)


def webhook_url(request: HttpRequest) -> str:
    """Where deliveries are posted: ``SIPADU_WHATSAPP_SIMULATOR_WEBHOOK_URL``, else this
    site's own webhook."""
    return os.environ.get("SIPADU_WHATSAPP_SIMULATOR_WEBHOOK_URL") or request.build_absolute_uri(
        reverse("messaging:whatsapp_webhook")
    )


def graph_is_local(cfg: config.WhatsAppConfig) -> bool:
    """Whether the Graph URL is a loopback host (the local fake Cloud API).

    Only a literal loopback address or ``localhost`` counts (:func:`is_local_host`); no name
    is resolved, so ``127.0.0.1.example.com`` or ``127.0.0.1@example.com`` are not local.
    """
    try:
        parts = urlsplit(cfg.graph_url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(host) and is_local_host(host)


def _not_local_text() -> str:
    return _(
        "Simulator tidak mengirim apa pun: SIPADU_WHATSAPP_GRAPH_URL tidak menunjuk ke fake "
        "Cloud API lokal (127.0.0.1 atau localhost), sehingga balasan dapat terkirim ke "
        "WhatsApp sungguhan. Jalankan fake Cloud API dan arahkan ke sana (lihat "
        "docs/messaging.md)."
    )


def _problems(cfg: config.WhatsAppConfig) -> list[str]:
    problems = []
    if not cfg.app_secret:
        problems.append(_("SIPADU_WHATSAPP_APP_SECRET belum diisi (webhook akan menolak)."))
    if not cfg.can_send:
        problems.append(
            _("SIPADU_WHATSAPP_ACCESS_TOKEN dan SIPADU_WHATSAPP_PHONE_NUMBER_ID belum diisi.")
        )
    if not graph_is_local(cfg):
        problems.append(_not_local_text())
    return problems


# --------------------------------------------------------------------------- transcript


def _outbound_items(cfg: config.WhatsAppConfig, number: str) -> tuple[list[dict[str, Any]], bool]:
    """What the fake Cloud API sent to ``number``; (items, reachable).

    The record is fetched whole and filtered here, so the number never travels in a URL;
    only from a local fake (a real Graph API has no such record).
    """
    if not graph_is_local(cfg):
        return [], False
    try:
        response = httpx.get(f"{cfg.graph_url}/_fake/sent", timeout=3)
        response.raise_for_status()
        records = response.json().get("data", [])
    except (httpx.HTTPError, ValueError):
        return [], False
    items = []
    for record in records:
        if record.get("to") != number:
            continue
        body = record.get("body") or {}
        kind = record.get("type", "text")
        item: dict[str, Any] = {
            "direction": "out",
            "at": dt.datetime.fromtimestamp(float(record.get("at") or 0), tz=dt.UTC),
            "kind": kind,
            "text": "",
        }
        if kind == "text":
            item["text"] = (body.get("text") or {}).get("body", "")
        elif kind == "document":
            document = body.get("document") or {}
            item["text"] = document.get("caption", "")
            item["filename"] = document.get("filename", "dokumen.pdf")
            item["media_id"] = document.get("id", "")
        elif kind == "template":
            template = body.get("template") or {}
            params = [
                p.get("text", "")
                for c in template.get("components", [])
                for p in c.get("parameters", [])
            ]
            item["text"] = " ".join(params) or template.get("name", "")
            item["template"] = template.get("name", "")
        else:
            item["text"] = f"[{kind}]"
        items.append(item)
    return items, True


def _inbound_items(number: str) -> list[dict[str, Any]]:
    rows = InboundMessage.objects.filter(channel="whatsapp", sender=number).order_by(
        "-received_at"
    )[:TRANSCRIPT_LIMIT]
    items = []
    for row in rows:
        text = row.body
        if row.type in {"image", "document"}:
            media = row.payload.get(row.type) or {}
            label = media.get("filename") or (_("Foto") if row.type == "image" else _("Dokumen"))
            text = f"📎 {label}" + (f" — {text}" if text else "")
        items.append({"direction": "in", "at": row.sent_at or row.received_at, "text": text})
    return items


def transcript(request: HttpRequest) -> dict[str, Any]:
    """The conversation of the simulated number, oldest first, and the fake's reachability."""
    cfg = config.load()
    number = current_number(request)
    outbound, reachable = _outbound_items(cfg, number)
    items = sorted(_inbound_items(number) + outbound, key=lambda i: i["at"])
    return {"items": items[-TRANSCRIPT_LIMIT:], "fake_reachable": reachable}


# --------------------------------------------------------------------------- views


@simulator_view
@require_GET
def page(request: HttpRequest) -> HttpResponse:
    """The phone-like chat page."""
    cfg = config.load()
    context = {
        "number": current_number(request),
        "number_error": request.session.pop("wa-simulator-error", ""),
        "problems": _problems(cfg),
        "webhook_url": webhook_url(request),
        **transcript(request),
    }
    return render(request, "messaging/simulator.html", context)


@simulator_view
@require_POST
def choose_number(request: HttpRequest) -> HttpResponse:
    """Switch the simulated citizen (a new number starts a new conversation)."""
    try:
        number = normalize_number(request.POST.get("number", ""))
    except MessagingError:
        request.session["wa-simulator-error"] = _("Nomor WhatsApp tidak valid.")
        return redirect("wa_simulator:page")
    request.session[SESSION_KEY] = number
    return redirect("wa_simulator:page")


@simulator_view
@require_GET
def messages(request: HttpRequest) -> HttpResponse:
    """The transcript fragment (htmx polling)."""
    return render(request, "messaging/simulator_transcript.html", transcript(request))


def _message_for(request: HttpRequest, number: str, cfg: config.WhatsAppConfig) -> dict[str, Any]:
    """The Meta-shaped message for what was typed or picked (files go to the fake first)."""
    upload = request.FILES.get("file")
    text = (request.POST.get("text") or "").strip()
    if upload is None:
        if not text:
            raise ValueError(_("Tulis pesan atau pilih berkas."))
        return payloads.text(number, text[:4096])
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise ValueError(_("Berkas terlalu besar untuk simulator (maksimal 16 MB)."))
    data = upload.read()
    mime = (upload.content_type or "application/octet-stream").split(";")[0].strip()
    name = os.path.basename(upload.name or "berkas")[:100] or "berkas"
    try:
        with GraphClient(cfg) as client:
            media_id = client.upload_media(cfg.phone_number_id, data, mime, name)
    except GraphError as exc:
        raise ValueError(
            _("Fake Cloud API tidak dapat dihubungi (%(code)s).") % {"code": exc.code}
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if mime.startswith("image/"):
        message = payloads.image(number, media_id, digest, caption=text[:1024])
        message["image"]["mime_type"] = mime
        return message
    message = payloads.document(number, media_id, digest, filename=name)
    message["document"]["mime_type"] = mime
    if text:
        message["document"]["caption"] = text[:1024]
    return message


@simulator_view
@require_POST
def send_message(request: HttpRequest) -> HttpResponse:
    """Post the citizen's message as a signed webhook delivery; answer with the transcript."""
    cfg = config.load()
    if not graph_is_local(cfg):
        # Refused before anything is uploaded or posted: the webhook's replies would go to
        # the simulated number through the real Cloud API.
        context = {"error": _not_local_text(), **transcript(request)}
        return render(request, "messaging/simulator_transcript.html", context, status=409)
    number = current_number(request)
    error = ""
    try:
        message = _message_for(request, number, cfg)
        delivery = payloads.envelope(cfg.phone_number_id, messages=[message])
        response = post_webhook(webhook_url(request), delivery, cfg.app_secret, timeout=60)
        if response.status_code != 200:
            error = _("Webhook menjawab %(status)d.") % {"status": response.status_code}
    except ValueError as exc:
        error = str(exc)
    except httpx.HTTPError:
        error = _("Webhook tidak dapat dihubungi.")
    context = {"error": error, **transcript(request)}
    # 200 even with an error: htmx swaps only successful answers, and the message belongs in
    # the chat.
    return render(request, "messaging/simulator_transcript.html", context)


@simulator_view
@require_GET
def media(request: HttpRequest, media_id: str) -> HttpResponse:
    """A document the service sent to the simulated number (e.g. the signed PDF)."""
    cfg = config.load()
    if not graph_is_local(cfg):
        raise Http404
    outbound, _reachable = _outbound_items(cfg, current_number(request))
    sent = next((i for i in outbound if i.get("media_id") == media_id), None)
    if sent is None:
        raise Http404
    try:
        with GraphClient(cfg) as client:
            data, info = client.download_media(media_id)
    except GraphError:
        raise Http404 from None
    response = HttpResponse(data, content_type=info.mime_type or "application/pdf")
    filename = str(sent.get("filename") or "dokumen.pdf").replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response
