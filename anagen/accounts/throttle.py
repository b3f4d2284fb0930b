"""Password spraying: many failed logins from one address, across any usernames, get 429.

django-axes locks one account from one address after a few failures; a sprayer tries one or
two passwords on each of many accounts and never trips that. This counts failed logins per
client address in the cache (Redis in production, so every worker shares the count): after
settings.ANAGEN_LOGIN_FAILURES_PER_ADDRESS failures within the cool-off (15 minutes) a login
from that address is answered 429 with a page that says when to try again.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.shortcuts import render

LOGIN_PATHS = ("/login/", "/admin/login/")
WINDOW_SECONDS = 15 * 60


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(address: str) -> str:
    return "login-fail-addr:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def failures_from(address: str) -> int:
    return int(cache.get(_key(address), 0))


@receiver(user_login_failed, dispatch_uid="anagen-login-failure-per-address")
def _count_failure(sender, credentials=None, request=None, **kwargs) -> None:
    if request is None:
        return
    key = _key(client_address(request))
    if cache.add(key, 1, WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, WINDOW_SECONDS)


class AddressThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path in LOGIN_PATHS:
            if failures_from(client_address(request)) >= settings.ANAGEN_LOGIN_FAILURES_PER_ADDRESS:
                return render(request, "accounts/throttled.html", {"minutes": WINDOW_SECONDS // 60}, status=429)
        return self.get_response(request)
