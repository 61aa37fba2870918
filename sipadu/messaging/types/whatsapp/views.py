"""The WhatsApp Cloud API webhook endpoint (mounted at ``/webhooks/whatsapp/``).

GET is Meta's subscription handshake. POST is authenticated by its HMAC signature before
anything is parsed or stored, then stored in one short transaction and answered 200; the
conversation runs in the worker.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sipadu.messaging import actions
from sipadu.messaging.types.whatsapp import config, webhook

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"


def _verify(request: HttpRequest) -> HttpResponse:
    params = request.GET
    if params.get("hub.mode") == "subscribe" and webhook.verify_token_valid(
        params.get("hub.verify_token"), config.load().verify_token
    ):
        challenge = params.get("hub.challenge", "")
        return HttpResponse(challenge, content_type="text/plain")
    return HttpResponse("forbidden", status=403, content_type="text/plain")


def _receive(request: HttpRequest) -> HttpResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"error": "payload_too_large"}, status=413)
    secret = config.load().app_secret
    if not webhook.signature_valid(body, request.headers.get("X-Hub-Signature-256"), secret):
        # Nothing of an unauthenticated body is parsed, stored or logged.
        log.warning("whatsapp webhook: rejected delivery with a bad or missing signature")
        return JsonResponse({"error": "bad_signature"}, status=403)
    try:
        parsed = webhook.parse(body)
    except webhook.MalformedPayload as exc:
        kept = actions.keep_bad_delivery(CHANNEL, body, str(exc))
        log.warning("whatsapp webhook: malformed delivery kept as %s (%s)", kept, exc)
        return JsonResponse({"error": "malformed", "kept": kept}, status=400)
    actions.record_webhook(CHANNEL, parsed.messages, parsed.statuses)
    if parsed.problems:
        kept = actions.keep_bad_delivery(CHANNEL, body, "; ".join(parsed.problems), partial=True)
        log.warning("whatsapp webhook: unusable items kept as %s", kept)
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    """Subscription handshake (GET) and event delivery (POST) of the Cloud API."""
    if request.method == "GET":
        return _verify(request)
    if request.method == "POST":
        return _receive(request)
    return HttpResponse(status=405, headers={"Allow": "GET, POST"})
