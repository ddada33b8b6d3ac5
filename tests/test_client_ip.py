"""Which address lockout, rate limits and the access log see, with and without a reverse proxy."""

import pytest

from portal.client_ip import client_ip
from portal.models import AccessLog
from tests.factories import PlanFactory


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.2"),  # no proxy configured: the header is the client's own words
        (1, "203.0.113.7", "203.0.113.7"),  # nginx appended the client it saw
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a forged entry before nginx's: ignored
        (2, "6.6.6.6, 203.0.113.7, 198.51.100.4", "203.0.113.7"),  # the same behind a CDN
        (2, "198.51.100.4", "10.0.0.2"),  # fewer entries than proxies: the header is not ours
        (2, "203.0.113.7, 198.51.100.4", "203.0.113.7"),  # a CDN, then nginx
        (1, "", "10.0.0.2"),
    ],
)
def test_it_takes_the_address_the_outermost_trusted_proxy_saw(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == expected


@pytest.mark.usefixtures("frozen")
def test_it_logs_and_rate_limits_by_the_client_behind_the_proxy(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMIT_ACCOUNT_PAGES = "2/h"
    PlanFactory(patient=alice, start_date=alice.local_today())
    client.force_login(alice.user)
    client.get("/plan/", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert AccessLog.objects.get(patient=alice).ip_address == "203.0.113.7"
    client.logout()
    for _ in range(2):
        client.post("/accounts/password_reset/", {"email": "x@example.org"}, HTTP_X_FORWARDED_FOR="203.0.113.7")
    blocked = client.post("/accounts/password_reset/", {"email": "x@example.org"}, HTTP_X_FORWARDED_FOR="203.0.113.7")
    other = client.post("/accounts/password_reset/", {"email": "x@example.org"}, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert blocked.status_code == 429
    assert other.status_code != 429
