"""Per-address limits see the visitor behind a configured proxy, never a forged header."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from hubs_bridge.web.client_address import client_address
from hubs_bridge.web.keys import SETTINGS
from tests.conftest import make_settings


def request_from(
    tmp_path: Path, remote: str, forwarded: str | None, proxies: list[str]
) -> web.Request:
    app = web.Application()
    app[SETTINGS] = make_settings(tmp_path, trusted_proxies=proxies)
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    request = make_mocked_request("GET", "/go/e/r", headers=headers, app=app)
    return request.clone(remote=remote)


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxies", "seen"),
    [
        # No proxy configured: the header is ignored, whatever it says.
        ("203.0.113.7", "198.51.100.1", [], "203.0.113.7"),
        # From the trusted proxy: the visitor it names.
        ("172.18.0.5", "198.51.100.1", ["172.16.0.0/12"], "198.51.100.1"),
        # A client forging the left of the header: the rightmost untrusted hop counts.
        ("172.18.0.5", "6.6.6.6, 198.51.100.1", ["172.16.0.0/12"], "198.51.100.1"),
        # Two proxies in a row, both trusted.
        ("10.0.0.2", "198.51.100.1, 172.18.0.5", ["172.16.0.0/12", "10.0.0.0/8"], "198.51.100.1"),
        # Not from the proxy: the header is not believed.
        ("203.0.113.7", "198.51.100.1", ["172.16.0.0/12"], "203.0.113.7"),
        # From the proxy but without a header: the proxy itself.
        ("172.18.0.5", None, ["172.16.0.0/12"], "172.18.0.5"),
        # Garbage in the header is a hop like any other (never an error).
        ("172.18.0.5", "not-an-ip", ["172.16.0.0/12"], "not-an-ip"),
    ],
)
def test_client_address(
    tmp_path: Path, remote: str, forwarded: str | None, proxies: list[str], seen: str
) -> None:
    assert client_address(request_from(tmp_path, remote, forwarded, proxies)) == seen


def test_a_forged_first_header_line_is_not_believed(tmp_path: Path) -> None:
    # haproxy (Hubs CE's ingress) appends its own X-Forwarded-For line after the one the
    # client sent: the rightmost untrusted hop over every line is the visitor.
    app = web.Application()
    app[SETTINGS] = make_settings(tmp_path, trusted_proxies=["10.244.0.0/16"])
    headers = CIMultiDict([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.7")])
    request = make_mocked_request("GET", "/go/e/r", headers=headers, app=app)
    assert client_address(request.clone(remote="10.244.1.5")) == "198.51.100.7"


def test_trusted_proxies_must_be_networks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        make_settings(tmp_path, trusted_proxies=["the proxy"])
