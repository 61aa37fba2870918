"""The channel-type registry: each channel (web, WhatsApp …) is a plugin registered by name.

A channel type knows how to check an address and how to deliver one outbox row. The outbox,
retries and idempotency live in :mod:`sipadu.messaging.actions` and
:mod:`sipadu.messaging.tasks`, shared by every channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from sipadu.messaging.error_codes import ErrorCode, MessagingError

if TYPE_CHECKING:
    from sipadu.messaging.models import InboundMessage, OutboundMessage


@dataclass(frozen=True)
class Delivered:
    """The channel handed the message over; ``provider_message_id`` names it at the provider."""

    provider_message_id: str | None = None
    # Some channels (web) have nothing further to wait for: the message is delivered at once.
    final_state: str = "sent"
    # What was actually sent when it differs from what was asked (a template outside the
    # 24-hour window): merged into the row's payload for the record.
    payload_update: dict[str, object] | None = None


class DeliveryError(Exception):
    """A delivery attempt failed.

    ``retryable``: the provider certainly did not take the message (connection refused, 429,
    5xx) — try again after ``retry_after`` or the backoff. ``ambiguous``: the request may have
    reached the provider (read timeout, dropped connection) — the outbox does not resend, so a
    crash or a timeout never produces a duplicate (at-most-once for unknown outcomes).
    """

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        retryable: bool = False,
        ambiguous: bool = False,
        retry_after: dt.timedelta | None = None,
    ) -> None:
        self.code = code
        self.detail = detail
        self.retryable = retryable
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        super().__init__(f"{code}: {detail}")


class ChannelType(Protocol):
    """What a channel plugin provides."""

    name: ClassVar[str]

    def normalize_recipient(self, address: str) -> str:
        """Return the canonical address or raise :class:`MessagingError` (BAD_RECIPIENT)."""
        ...

    def deliver(self, message: OutboundMessage) -> Delivered:
        """Hand one outbox row to the provider; raise :class:`DeliveryError` on failure."""
        ...

    def handle_inbound(self, inbound: InboundMessage) -> None:
        """Process one received message (channels that receive nothing may raise)."""
        ...


_REGISTRY: dict[str, type[ChannelType]] = {}


def register_channel(name: str, channel_type: type[ChannelType]) -> None:
    """Make ``channel_type`` available under ``name`` (re-registering replaces it)."""
    _REGISTRY[name] = channel_type


def get_channel(name: str) -> ChannelType:
    """A fresh instance of the channel type registered as ``name``."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise MessagingError(ErrorCode.UNKNOWN_CHANNEL) from None


def channel_names() -> list[str]:
    """Names of the registered channel types."""
    return sorted(_REGISTRY)
