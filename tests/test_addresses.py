"""The one private-address rule (``crawler.addresses``), as one table of spellings.

Each row: a host as it may appear in a URL, the word the refusal must contain with private
addresses refused (the default) and with them allowed (``NEWSWATCH_ALLOW_PRIVATE=1``); None
means the host may be fetched.
"""

from __future__ import annotations

import ipaddress

import pytest

from crawler.addresses import literal_ip, refusal_reason, resolve
from crawler.settings import PrivateAllowance

NOTHING = PrivateAllowance()
EVERYTHING = PrivateAllowance(everything=True)

CASES: list[tuple[str, str | None, str | None]] = [
    ("127.0.0.1", "loopback", None),
    ("127.1", "loopback", None),
    ("0x7f.1", "loopback", None),
    ("0177.0.0.1", "loopback", None),
    ("2130706433", "loopback", None),
    ("127.0.0.1.", "loopback", None),
    ("[::1]", "loopback", None),
    ("[::ffff:127.0.0.1]", "loopback", None),
    ("[::ffff:7f00:1]", "loopback", None),
    ("10.0.0.1", "private", None),
    ("10.255.255.1", "private", None),
    ("172.16.5.4", "private", None),
    ("192.168.0.1", "private", None),
    ("[::ffff:10.0.0.1]", "private", None),
    ("[fc00::1]", "private", None),
    ("100.64.0.1", "shared", None),
    ("169.254.169.254", "link-local", "link-local"),
    ("[::ffff:169.254.169.254]", "link-local", "link-local"),
    ("[::ffff:a9fe:a9fe]", "link-local", "link-local"),
    ("0xa9.0xfe.0xa9.0xfe", "link-local", "link-local"),
    ("2852039166", "link-local", "link-local"),
    ("[2002:a9fe:a9fe::1]", "link-local", "link-local"),
    ("[64:ff9b::a9fe:a9fe]", "link-local", "link-local"),
    ("[fe80::1]", "link-local", "link-local"),
    ("[fe80::1%25eth0]", "link-local", "link-local"),
    ("169.254.1.1", "link-local", "link-local"),
    ("[fd00:ec2::254]", "metadata", "metadata"),
    ("100.100.100.200", "metadata", "metadata"),
    ("0.0.0.0", "unspecified", "unspecified"),
    ("0", "unspecified", "unspecified"),
    ("[::]", "unspecified", "unspecified"),
    ("224.0.0.1", "multicast", "multicast"),
    ("[ff02::1]", "multicast", "multicast"),
    ("240.0.0.1", "reserved", "reserved"),
    ("8.8.8.8", None, None),
    ("93.184.216.34", None, None),
    ("[2001:4860:4860::8888]", None, None),
    ("[::ffff:8.8.8.8]", None, None),
    ("[64:ff9b::808:808]", None, None),
    ("news.example", None, None),
]


@pytest.mark.parametrize(("host", "refused", "refused_when_allowed"), CASES)
def test_address_rule(host: str, refused: str | None, refused_when_allowed: str | None) -> None:
    for allow, expected in ((NOTHING, refused), (EVERYTHING, refused_when_allowed)):
        why = refusal_reason(host.replace("%25", "%"), [], allow)
        if expected is None:
            assert why is None, (host, allow, why)
        else:
            assert why is not None and expected in why, (host, allow, why)
            assert "\n" not in why


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    assert refusal_reason("news.example", ["93.184.216.34"], NOTHING) is None
    why = refusal_reason("news.example", ["93.184.216.34", "10.1.2.3"], NOTHING)
    assert why == (
        "news.example resolves to 10.1.2.3, a private address "
        "(set NEWSWATCH_ALLOW_PRIVATE=1 to allow)"
    )
    assert refusal_reason("news.example", ["10.1.2.3"], EVERYTHING) is None
    assert "link-local" in (refusal_reason("x", ["::ffff:a9fe:a9fe"], EVERYTHING) or "")


def test_an_allow_list_opens_only_its_networks_and_never_link_local() -> None:
    allow = PrivateAllowance(
        networks=(ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("169.254.0.0/16"))
    )
    assert refusal_reason("127.0.0.1", [], allow) is None
    assert refusal_reason("0x7f.0.0.1", [], allow) is None
    assert "private" in (refusal_reason("10.0.0.1", [], allow) or "")
    assert "link-local" in (refusal_reason("169.254.169.254", [], allow) or "")


def test_literal_spellings_read_as_a_resolver_reads_them() -> None:
    assert str(literal_ip("0x7f.1")) == "127.0.0.1"
    assert str(literal_ip("10.1")) == "10.0.0.1"
    assert str(literal_ip("[::1]")) == "::1"
    for name in ("news.example", "1.2.3.4.5", "256.1.1.1", "1..2", "08.1.1.1"):
        assert literal_ip(name) is None, name


def test_refusal_after_a_lookup_of_the_name() -> None:
    assert "loopback" in (refusal_reason("localhost", resolve("localhost"), NOTHING) or "")
    assert refusal_reason("localhost", resolve("localhost"), EVERYTHING) is None
    assert refusal_reason("no-such-host.invalid", resolve("no-such-host.invalid"), NOTHING) is None
