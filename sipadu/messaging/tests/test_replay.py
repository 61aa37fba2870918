"""A replay of 1,000 webhook deliveries with 20% duplicates and 5% bad signatures: each valid
message is stored and processed exactly once, nothing of a badly signed body is kept."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sipadu.messaging.models import InboundMessage, InboundState, StatusEvent
from sipadu.messaging.tests.conftest import PHONE_NUMBER_ID
from sipadu.messaging.types.whatsapp import conversation, payloads

pytestmark = pytest.mark.django_db


@pytest.fixture
def processed() -> Iterator[Counter[str]]:
    """Count how often the conversation handler sees each message id."""
    seen: Counter[str] = Counter()

    class Counting:
        def handle(self, inbound: InboundMessage) -> None:
            seen[inbound.provider_message_id] += 1

    conversation.register_handler(Counting())
    yield seen
    conversation.register_handler(None)


def test_replay_1000_deliveries(
    post_signed: Callable[..., Any], wa_env: Any, processed: Counter[str]
) -> None:
    rng = random.Random(6)
    builders = [
        lambda s: payloads.text(s, "halo"),
        lambda s: payloads.button_reply(s, "menu:status", "Cek status"),
        lambda s: payloads.list_reply(s, "doc:kk", "Kartu Keluarga"),
        lambda s: payloads.template_button(s, "Ya", "ya"),
        lambda s: payloads.sticker(s),
    ]
    originals: list[dict[str, Any]] = []
    plan: list[tuple[dict[str, Any], bool]] = []  # (delivery, signed correctly)
    for i in range(1000):
        roll = rng.random()
        if roll < 0.20 and originals:
            plan.append((rng.choice(originals), True))  # Meta redelivers
        elif roll < 0.25:
            sender = f"62813{rng.randrange(10**7, 10**8)}"
            forged = payloads.envelope(PHONE_NUMBER_ID, messages=[payloads.text(sender, "x")])
            plan.append((forged, False))
        else:
            sender = f"62812{i:08d}"
            messages = [rng.choice(builders)(sender) for _ in range(rng.choice([1, 1, 1, 2]))]
            delivery = payloads.envelope(PHONE_NUMBER_ID, messages=messages)
            if rng.random() < 0.1:
                status = payloads.status(f"wamid.unknown{i}", "delivered", sender)
                delivery["entry"][0]["changes"][0]["value"]["statuses"] = [status]
            originals.append(delivery)
            plan.append((delivery, True))
    valid_ids = {
        m["id"] for d in originals for m in d["entry"][0]["changes"][0]["value"]["messages"]
    }
    forged_ids = {
        m["id"]
        for d, ok in plan
        if not ok
        for m in d["entry"][0]["changes"][0]["value"]["messages"]
    }
    codes: Counter[int] = Counter()
    for delivery, ok in plan:
        response = post_signed(delivery, secret="test-app-secret" if ok else "forged")
        codes[response.status_code] += 1
    bad = sum(1 for _, ok in plan if not ok)
    duplicates = len(plan) - bad - len(originals)
    assert 150 <= duplicates <= 250 and 30 <= bad <= 70  # the mix asked for
    assert codes == {200: len(plan) - bad, 403: bad}
    assert set(InboundMessage.objects.values_list("provider_message_id", flat=True)) == valid_ids
    assert not forged_ids & set(processed)
    assert set(processed) == valid_ids
    assert set(processed.values()) == {1}  # exactly once each
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundState.PROCESSED}
    assert StatusEvent.objects.filter(applied=False).count() > 0  # kept for a later match
