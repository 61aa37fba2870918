"""Top-level URL map: each app includes its own urls module."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sipadu.core import second_factor
from sipadu.core import views as core_views
from sipadu.core.ratelimit import rate_limit

urlpatterns = [
    path("", core_views.home, name="home"),
    path("kantor/", core_views.choose_office, name="choose_office"),
    path("healthz", core_views.healthz, name="healthz"),
    path(
        "masuk/",
        # Password guessing is throttled per client address (10 tries a minute).
        rate_limit("login", limit=10, window=60)(
            auth_views.LoginView.as_view(redirect_authenticated_user=True)
        ),
        name="login",
    ),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "otp/verifikasi/",
        rate_limit("otp", limit=10, window=60)(second_factor.verify),
        name="otp_verify",
    ),
    path("otp/aktifkan/", second_factor.setup, name="otp_setup"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("sop/", include("sipadu.sop.urls")),
    path("kerja/", include("sipadu.sop.work_urls")),
    path("penduduk/", include("sipadu.registry.urls")),
    path("webhooks/", include("sipadu.messaging.urls")),
    path("layanan/", include("sipadu.layanan.urls")),
    path("simulator-wa/", include("sipadu.messaging.simulator_urls")),
    path("v/", include("sipadu.layanan.verification_urls")),
    path("tte/", include("sipadu.layanan.tte_urls")),
]
