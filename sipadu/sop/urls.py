"""Public SOP pages: catalogue, one SOP's document, and its PDF/SVG/HTML downloads."""

from django.urls import path

from . import views

app_name = "sop"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    # The download routes come first: a slug cannot contain ".", so they never clash.
    path("<slug:code>.pdf", views.download_pdf, name="pdf"),
    path("<slug:code>.svg", views.download_svg, name="svg"),
    path("<slug:code>.html", views.download_html, name="html"),
    path("<slug:code>/", views.detail, name="detail"),
]
