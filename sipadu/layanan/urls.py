"""Citizen portal (no log-in) and the officers' panel actions of the document service.

Mounted by the project at ``/layanan/``.
"""

from django.urls import path

from sipadu.layanan import views, work_views

app_name = "layanan"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("ajukan/<slug:code>/", views.apply, name="apply"),
    path("status/", views.status, name="status"),
    path("status/unggah/", views.upload_more, name="upload_more"),
    path("status/unduh/", views.download, name="download"),
    path("status/keluar/", views.leave, name="leave"),
    path("kerja/<str:reference>/ceklis/", work_views.save_checklist, name="checklist"),
    path("kerja/<str:reference>/kurang/", work_views.ask_missing, name="missing"),
    path("kerja/<str:reference>/draf/", work_views.save_draft, name="draft"),
    path("kerja/<str:reference>/serah/", work_views.handover, name="handover"),
    path("kerja/<str:reference>/berkas/<int:pk>/", work_views.file_download, name="file"),
]
