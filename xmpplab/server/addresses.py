"""Addresses of peers and of the listener: which are loopback, and the key per-address limits count by.

>>> address_key(("10.99.0.7", 40123))
'10.99.0.7'
>>> address_key(("2001:db8:1:2:aaaa::1", 5222, 0, 0))   # one IPv6 /64: one laptop, however many addresses
'2001:db8:1:2::/64'
>>> address_key(("::ffff:10.0.0.1", 5222, 0, 0))
'10.0.0.1'
>>> only_loopback("127.0.0.1"), only_loopback(["::1", "localhost"]), only_loopback("10.99.0.1"), only_loopback("")
(True, True, False, False)
"""

from __future__ import annotations

import ipaddress
import socket


def _ip(host):
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_key(peer) -> str:
    """The key a peer is counted under: its IPv4 address, or its IPv6 /64 (a host usually holds a whole /64)."""
    host = peer[0] if isinstance(peer, (tuple, list)) and peer else peer
    ip = _ip(host)
    if ip is None:
        return str(host)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def only_loopback(hosts) -> bool:
    """Whether every address a listener binds for ``hosts`` (an address, a name or a list) is loopback.

    A name is resolved (``localhost`` gives 127.0.0.1 and ::1); one that does not resolve, and the empty
    host (every interface), count as not loopback.
    """
    for host in [hosts] if isinstance(hosts, str) or hosts is None else list(hosts):
        if not host:
            return False
        ip = _ip(host)
        if ip is not None:
            if not ip.is_loopback:
                return False
            continue
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return False
        if not infos or not all(_ip(info[4][0]) is not None and _ip(info[4][0]).is_loopback for info in infos):
            return False
    return True
