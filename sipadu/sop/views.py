from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "sop/catalogue.html", {"sops": []})
