"""The project's URLs plus the registry's, until the project includes them itself."""

from django.urls import include, path

from sipadu.urls import urlpatterns as project_urls

urlpatterns = list(project_urls)
if not any(getattr(p, "namespace", None) == "registry" for p in urlpatterns):
    urlpatterns.append(path("penduduk/", include("sipadu.registry.urls")))
