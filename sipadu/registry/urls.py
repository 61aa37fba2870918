"""URLs of the population registry (included by the project at /penduduk/)."""

from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.search_view, name="search"),
    path("<uuid:pk>/", views.detail_view, name="detail"),
    path("impor/", views.import_view, name="import"),
    path("impor/<uuid:pk>/", views.import_detail_view, name="import_detail"),
    path("impor/<uuid:pk>/kemajuan/", views.import_progress_view, name="import_progress"),
    path("impor/<uuid:pk>/ditolak.csv", views.import_errors_view, name="import_errors"),
    path("cakupan/", views.coverage_view, name="coverage"),
    path("cakupan/<str:code>/", views.coverage_view, name="coverage_region"),
]
