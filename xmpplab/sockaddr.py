"""Socket addresses as text, the way recordings and messages show them.

>>> format_address(("127.0.0.1", 5222))
'127.0.0.1:5222'
>>> format_address(("::1", 5222, 0, 0))
'[::1]:5222'
"""

from __future__ import annotations

__all__ = ["format_address"]


def format_address(addr) -> str | None:
    """``host:port`` (``[v6]:port`` for IPv6) from a socket address tuple; None for no address."""
    if not addr:
        return None
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
