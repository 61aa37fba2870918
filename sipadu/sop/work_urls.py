"""URLs of the officers' work pages (included by the project at ``/kerja/``)."""

from django.urls import path

from . import monitoring_views, work_views

app_name = "kerja"
urlpatterns = [
    path("", work_views.inbox, name="inbox"),
    path("tugas/<int:pk>/ambil/", work_views.claim, name="claim"),
    path("tugas/<int:pk>/lepas/", work_views.release, name="release"),
    path("mulai/", work_views.start, name="start"),
    path("cari/", work_views.search, name="search"),
    path("notifikasi/", work_views.notifications, name="notifications"),
    path("notifikasi/baca/", work_views.notifications_read, name="notifications_read"),
    path("perkara/<str:reference>/", work_views.case_detail, name="case"),
    path(
        "perkara/<str:reference>/tugas/<int:pk>/<slug:move>/",
        work_views.task_move,
        name="task_move",
    ),
    path("perkara/<str:reference>/batal/", work_views.cancel_case, name="cancel"),
    path("perkara/<str:reference>/lampiran/", work_views.attach, name="attach"),
    path("perkara/<str:reference>/lampiran/<int:pk>/", work_views.download, name="download"),
    path("monitoring/", monitoring_views.monitoring_page, name="monitoring"),
    path(
        "monitoring/<slug:table>.<slug:fmt>",
        monitoring_views.monitoring_export,
        name="monitoring_export",
    ),
]
