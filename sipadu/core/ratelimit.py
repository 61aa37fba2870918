"""Rate limits for public endpoints, counted in the shared Django cache.

The cache is the file cache by default and Redis when scaled out, so every process of every
node counts against the same window. A limited request gets HTTP 429 with a message in the
user's language and a ``Retry-After`` header.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_key(request: HttpRequest) -> str:
    """The client address; the only identity an anonymous caller has."""
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def hit(scope: str, key: str, limit: int, window: int) -> int | None:
    """Count one hit; return the seconds to wait when the limit is exceeded, else None.

    Fixed windows keep it to one cache increment per request. The key is hashed so that no
    personal value (an address, a tracking number) is stored in clear in the cache.
    """
    bucket = int(time.time() // window)
    digest = hashlib.sha256(f"{scope}|{key}".encode()).hexdigest()[:32]
    name = f"rl:{scope}:{digest}:{bucket}"
    cache.add(name, 0, timeout=window + 1)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window + 1)
        count = 1
    if count > limit:
        return int(window - time.time() % window) + 1
    return None


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 page."""
    response = render(request, "core/rate_limited.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(
    scope: str,
    limit: int,
    window: int,
    *,
    methods: tuple[str, ...] = ("POST",),
    key: Callable[[HttpRequest], str] = client_key,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorator: at most ``limit`` requests per ``window`` seconds per client and scope."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                wait = hit(scope, key(request), limit, window)
                if wait is not None:
                    return too_many(request, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
