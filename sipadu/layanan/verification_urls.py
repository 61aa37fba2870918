"""Public verification of issued documents; mounted by the project at ``/v/``.

The QR code of a document encodes ``SITE_URL/v/<token>`` (see ``IssuedDocument``).
"""

from django.urls import path

from sipadu.layanan import verification

app_name = "verifikasi"
urlpatterns = [
    path("", verification.upload, name="upload"),
    path("<str:token>", verification.document, name="document"),
]
