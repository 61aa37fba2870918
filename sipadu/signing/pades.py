"""PAdES signing with pyHanko: B-B by default, B-T when a timestamper is given."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from sipadu.signing.error_codes import SigningError, SigningErrorCode

# Room for the CMS blob, so pyHanko need not run a trial signature to size it (that would
# double the cost of each signature). Certificates of up to two RSA-4096 levels fit in the
# first; a timestamp token with its TSA certificate chain needs the second.
BYTES_RESERVED_BB = 8 * 1024
BYTES_RESERVED_BT = 16 * 1024

T = TypeVar("T")


def run_sync(func: Callable[[], T]) -> T:
    """Run pyHanko's synchronous API, which calls ``asyncio.run`` internally.

    ``asyncio.run`` refuses to start inside a thread that already runs an event loop (an async
    view, or a browser driver in tests), so then the call moves to a short-lived thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func).result()


def pades_sign(
    pdf: bytes,
    signer: signers.Signer,
    *,
    reason: str = "",
    location: str = "",
    field_name: str = "TTE",
    timestamper: TimeStamper | None = None,
) -> bytes:
    """Sign ``pdf`` (incremental update, invisible signature field) and return the result."""
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason or None,
        location=location or None,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, IndexError, KeyError) as exc:
        raise SigningError(SigningErrorCode.NOT_A_PDF, type(exc).__name__) from exc
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper)
    try:
        out = run_sync(
            lambda: pdf_signer.sign_pdf(
                writer,
                bytes_reserved=BYTES_RESERVED_BT if timestamper else BYTES_RESERVED_BB,
            )
        )
    except TimestampRequestError as exc:
        raise SigningError(SigningErrorCode.TSA_UNAVAILABLE, str(exc)) from exc
    except (PdfError, PyHankoSigningError) as exc:
        if isinstance(exc.__cause__, TimestampRequestError):
            raise SigningError(SigningErrorCode.TSA_UNAVAILABLE, str(exc)) from exc
        raise SigningError(SigningErrorCode.SIGNING_FAILED, type(exc).__name__) from exc
    return bytes(out.getbuffer())
