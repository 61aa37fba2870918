"""A log filter that masks NIK/KK numbers and phone numbers before anything is written."""

from __future__ import annotations

import logging
import re

# 16-digit NIK/KK numbers and Indonesian phone numbers (08…, +62…, 62…).
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_PHONE = re.compile(r"(?<![\d])(?:\+?62|0)8\d{7,12}(?!\d)")


def mask(text: str) -> str:
    """Replace identity and phone numbers in ``text`` with placeholders."""
    return _PHONE.sub("[telepon]", _NIK.sub("[NIK]", text))


class PersonalDataFilter(logging.Filter):
    """Masks personal numbers in every log record (message and arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            return True
        masked = mask(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
