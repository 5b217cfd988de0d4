"""Server addresses and the plain-http warning (issue 14): no network involved."""

from __future__ import annotations

import logging

import pytest

from inference.backends import remote_url
from inference.backends.remote import RemoteEngine
from inference.backends.remote_errors import in_words, retry_after_seconds
from inference.backends.remote_url import insecure_warning, parse_server_url


@pytest.mark.parametrize(
    ("given", "api_base", "root"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
        (" https://example.org/api/v1 ", "https://example.org/api/v1", "https://example.org/api"),
    ],
)
def test_the_api_lives_under_v1(given: str, api_base: str, root: str) -> None:
    address = parse_server_url(given)
    assert (address.api_base, address.root) == (api_base, root)


@pytest.mark.parametrize("bad", ["localhost:8080", "ftp://x", "http://", "http://h/v1?x=1"])
def test_what_is_not_an_address_is_refused_in_words(bad: str) -> None:
    with pytest.raises(ValueError, match="server address"):
        parse_server_url(bad)


@pytest.mark.parametrize(
    ("url", "warns"),
    [
        ("http://127.0.0.1:8080", False),
        ("http://localhost:11434", False),
        ("http://[::1]:8080", False),
        ("https://gpu-box.lan:8080", False),
        ("http://gpu-box.lan:8080", True),
        ("http://192.168.1.20:8080", True),
    ],
)
def test_plain_http_beyond_this_machine_warns(url: str, warns: bool) -> None:
    assert (insecure_warning(parse_server_url(url)) is not None) is warns


def test_the_warning_is_logged_once_and_returned_each_time(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_url, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="inference.backends.remote_url"):
        first = RemoteEngine("http://192.0.2.7:8080", "m")
        second = RemoteEngine("http://192.0.2.7:8080/v1", "m")
    assert first.warning == second.warning and first.warning is not None
    assert "192.0.2.7:8080 is reached over plain http://" in first.warning
    assert len(caplog.records) == 1
    first.close()
    second.close()


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
    assert retry_after_seconds("soon") is None
    assert [in_words(s) for s in (1, 45, 300, 7200)] == [
        "in a second",
        "in 45 seconds",
        "in 5 minutes",
        "in about 2 hours",
    ]
