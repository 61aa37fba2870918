"""The project's URL map plus the document pages, for tests that run before (or without) the
project mounting them: ``/v/`` (public verification) and ``/tte/`` (bulk signing, revoke)."""

from django.urls import include, path

from sipadu.urls import urlpatterns as project

_mounted = {getattr(p, "namespace", None) for p in project}
urlpatterns = list(project)
if "verifikasi" not in _mounted:
    urlpatterns.append(path("v/", include("sipadu.layanan.verification_urls")))
if "tte" not in _mounted:
    urlpatterns.append(path("tte/", include("sipadu.layanan.tte_urls")))
