"""The web channel: a message "sent" on the web is one stored for the citizen's status page.

The recipient address is the reference of the page that shows it (a request's UUID or
tracking number), never a person's name or number.
"""

from __future__ import annotations

import re
from typing import ClassVar

from sipadu.messaging.channels import Delivered
from sipadu.messaging.error_codes import ErrorCode, MessagingError
from sipadu.messaging.models import InboundMessage, OutboundMessage, OutboundState

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


class WebChannel:
    """Stores messages for a status page; delivery needs no provider."""

    name: ClassVar[str] = "web"

    def normalize_recipient(self, address: str) -> str:
        """A page reference: letters, digits and ``.-_:`` (up to 64 characters)."""
        ref = (address or "").strip()
        if not _REF.match(ref):
            raise MessagingError(ErrorCode.BAD_RECIPIENT)
        return ref

    def deliver(self, message: OutboundMessage) -> Delivered:
        """The row is the message: it is on the page as soon as it is stored."""
        return Delivered(final_state=str(OutboundState.DELIVERED))

    def handle_inbound(self, inbound: InboundMessage) -> None:
        """Citizens do not write through the status page."""
        raise NotImplementedError("the web channel receives no messages")


def messages_for(recipient_ref: str) -> list[OutboundMessage]:
    """The messages to show on the status page of ``recipient_ref``, oldest first."""
    from sipadu.messaging.actions import messages_for as _messages_for

    return _messages_for(WebChannel.name, recipient_ref)
