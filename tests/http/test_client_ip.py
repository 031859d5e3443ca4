"""`client_ip`: X-Forwarded-For is believed only as far as the chain of trusted proxies reaches."""

from __future__ import annotations

import ipaddress

import pytest

from app.http.middleware import client_ip

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))
PROXIES = (*LOOPBACK, ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


def test_no_forwarded_header_gives_the_peer() -> None:
    assert client_ip("203.0.113.7", None, PROXIES) == "203.0.113.7"
    assert client_ip("127.0.0.1", None, PROXIES) == "127.0.0.1"
    assert client_ip("127.0.0.1", "", PROXIES) == "127.0.0.1"


def test_no_peer_gives_none() -> None:
    assert client_ip(None, "198.51.100.1", PROXIES) is None


def test_untrusted_peer_cannot_choose_its_ip() -> None:
    assert client_ip("203.0.113.7", "198.51.100.1", PROXIES) == "203.0.113.7"
    assert client_ip("203.0.113.7", "198.51.100.1, 10.0.0.2", PROXIES) == "203.0.113.7"


def test_nothing_is_trusted_without_trusted_proxies() -> None:
    assert client_ip("127.0.0.1", "198.51.100.1", ()) == "127.0.0.1"


def test_trusted_peer_gives_the_right_most_untrusted_hop() -> None:
    assert client_ip("127.0.0.1", "198.51.100.1", PROXIES) == "198.51.100.1"
    # A client may prepend anything; only the hops that trusted proxies appended are believed.
    assert client_ip("127.0.0.1", "1.1.1.1, 198.51.100.1, 10.0.0.5", PROXIES) == "198.51.100.1"
    assert client_ip("10.1.2.3", "6.6.6.6,198.51.100.9,10.0.0.5,10.0.0.6", PROXIES) == "198.51.100.9"


def test_whitespace_and_empty_hops_are_ignored() -> None:
    assert client_ip("127.0.0.1", " 198.51.100.1 ,  , 10.0.0.5 ", PROXIES) == "198.51.100.1"
    assert client_ip("127.0.0.1", " , ", PROXIES) == "127.0.0.1"


def test_all_trusted_chain_gives_the_left_most_hop() -> None:
    # As uvicorn's forwarded-allow-ips: when every hop is a proxy, the first one is the client.
    assert client_ip("127.0.0.1", "10.0.0.1, 10.0.0.2", PROXIES) == "10.0.0.1"
    assert client_ip("127.0.0.1", "127.0.0.1", PROXIES) == "127.0.0.1"


@pytest.mark.parametrize(
    "forwarded",
    ["not-an-ip", "198.51.100.1, garbage", "198.51.100.1:4321", "<script>", "999.1.1.1", "1.2.3.4 5.6.7.8"],
)
def test_garbage_right_most_untrusted_hop_falls_back_to_the_peer(forwarded: str) -> None:
    assert client_ip("127.0.0.1", forwarded, PROXIES) == "127.0.0.1"


def test_garbage_left_of_the_client_is_never_reached() -> None:
    assert client_ip("127.0.0.1", "garbage, 198.51.100.1", PROXIES) == "198.51.100.1"


def test_ipv6_peers_and_hops() -> None:
    assert client_ip("::1", "2001:db8::1", PROXIES) == "2001:db8::1"
    # Normalized to the compressed form, so one client has one rate-limit key.
    assert client_ip("::1", "2001:0DB8:0000::0001", PROXIES) == "2001:db8::1"
    assert client_ip("::1", "2001:db8::7, fd00::1, fd12::2", PROXIES) == "2001:db8::7"
    assert client_ip("fd00::5", "198.51.100.1", PROXIES) == "198.51.100.1"
    assert client_ip("2001:db8::99", "198.51.100.1", PROXIES) == "2001:db8::99"
    assert client_ip("127.0.0.1", "2001:db8::1, 198.51.100.1", PROXIES) == "198.51.100.1"
    assert client_ip("::1", "[2001:db8::1]:443", PROXIES) == "::1"


def test_a_proxy_network_trusts_every_address_in_it() -> None:
    assert client_ip("10.255.255.254", "198.51.100.1", PROXIES) == "198.51.100.1"
    assert client_ip("11.0.0.1", "198.51.100.1", PROXIES) == "11.0.0.1"
