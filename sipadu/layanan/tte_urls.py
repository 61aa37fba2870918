"""Officer pages of signed documents: bulk TTE, revoke, replace. Mounted at ``/tte/``."""

from django.urls import path

from sipadu.layanan import bulk, revocation

app_name = "tte"
urlpatterns = [
    path("", bulk.bulk_sign, name="bulk"),
    path("dokumen/<int:pk>/cabut/", revocation.revoke_view, name="revoke"),
    path("dokumen/<int:pk>/ganti/", revocation.replace_view, name="replace"),
]
