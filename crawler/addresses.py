"""Which addresses the crawler may connect to: the one rule, used by every fetch.

A public news site can redirect to ``http://169.254.169.254/`` (cloud metadata) or to an intranet
host, and a host name can resolve to either, so the same decision runs on the sources file's
literal hosts, on every redirect hop of a crawl and on ``sources --check --online``.

The decision is made on :attr:`ipaddress.IPv4Address.is_global` after the IPv6 spellings of an
IPv4 address (``::ffff:a9fe:a9fe``, 6to4 ``2002:a9fe:a9fe::``, NAT64 ``64:ff9b::a9fe:a9fe``) are
turned back into it, and after the spellings a resolver accepts for IPv4 (``127.1``, ``0x7f.1``,
``2130706433``) are read as it reads them. ``NEWSWATCH_ALLOW_PRIVATE`` opens non-public
addresses, but never link-local ones (cloud metadata) nor addresses no server has (unspecified,
multicast, reserved).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from crawler import settings
from crawler.settings import PrivateAllowance

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
"""Cloud metadata services (AWS/GCP/Azure, AWS over IPv6, Alibaba): never a news site."""
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def _ipv4_part(part: str) -> int:
    """One dotted part as ``inet_aton`` reads it: decimal, ``0x`` hex or leading-zero octal."""
    text = part.lower()
    if text.startswith("0x"):
        return int(text[2:] or "0", 16)
    if len(text) > 1 and text.startswith("0"):
        return int(text[1:], 8)
    if not text.isdigit():
        raise ValueError(part)
    return int(text)


def _loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``127.1``, ``0x7f.1``, ``2130706433``, ``0177.0.0.1``: what a resolver turns into an
    IPv4 address without asking DNS, so a literal check must read them the same way."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    try:
        numbers = [_ipv4_part(p) for p in parts]
    except ValueError:
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def literal_ip(host: str) -> IPAddress | None:
    """The address ``host`` spells when it is an IP literal (any spelling), else None."""
    text = host.strip().lower().removesuffix(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return _loose_ipv4(text)


def normalise(ip: IPAddress) -> IPAddress:
    """An IPv6 spelling of an IPv4 address (mapped, 6to4, NAT64) as that IPv4 address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _kind(ip: IPAddress) -> str:
    if ip.is_loopback:
        return "loopback"
    if ip in _SHARED:
        return "shared (carrier-grade NAT)"
    if ip.is_private:
        return "private"
    return "non-public"


def _never(ip: IPAddress) -> str | None:
    """What makes ``ip`` refused even when private addresses are allowed, if anything."""
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved and not ip.is_loopback:
        return "a reserved address"
    return None


def _judge(address: str | IPAddress, allow: PrivateAllowance) -> tuple[str, str | None]:
    """``address`` as shown in a message, and what makes it refused (None: it may be fetched)."""
    ip = address if not isinstance(address, str) else literal_ip(address)
    shown = str(address).strip().strip("[]")
    if ip is None:
        return shown, "not an IP address"
    ip = normalise(ip)
    if shown != str(ip):
        shown = f"{shown} ({ip})"
    never = _never(ip)
    if never is not None:
        return shown, f"{never}, never fetched"
    if ip.is_global or allow.covers(ip):
        return shown, None
    return shown, f"a {_kind(ip)} address (set {settings.ENV_ALLOW_PRIVATE}=1 to allow)"


def refusal_reason(
    host: str, addresses: Iterable[str | IPAddress], allow: PrivateAllowance
) -> str | None:
    """Why ``host`` (resolved to ``addresses``) must not be fetched, or None when it may be.

    A host that is itself an IP literal, in any spelling, is judged as that address whatever
    ``addresses`` holds; a name with no addresses is left to the download, which reports the
    DNS failure in its own words.
    """
    if literal_ip(host) is not None:
        shown, why = _judge(host, allow)
        return None if why is None else f"{shown} is {why}"
    for address in addresses:
        shown, why = _judge(address, allow)
        if why is not None:
            return f"{host} resolves to {shown}, {why}"
    return None


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (itself when it is a literal); [] when it does not."""
    literal = literal_ip(host)
    if literal is not None:
        return [str(literal)]
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]).split("%", 1)[0] for info in infos})
