"""A token bucket: how many bytes a peer may send per second (RFC 6120 section 13.12, denial of service).

The bucket holds at most ``burst`` tokens and gains ``rate`` tokens a second;
each byte read takes one. A read that leaves it in debt says how long the
reader must wait before reading again (the server pauses reading meanwhile).

>>> b = TokenBucket(rate=1000, burst=1000, now=0.0)
>>> b.take(600, now=0.0)      # within the burst: no wait
0.0
>>> b.take(900, now=0.0)      # 500 in debt: half a second at 1000 bytes/s
0.5
>>> b.take(0, now=0.5)        # refilled by then
0.0
"""

from __future__ import annotations


class TokenBucket:
    """``rate`` bytes a second, ``burst`` bytes at once."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float, now: float):
        self.rate, self.burst = float(rate), float(burst)
        self.tokens, self.stamp = float(burst), now

    def take(self, n: int, now: float) -> float:
        """Take ``n`` tokens; return the seconds until the bucket is out of debt (0.0 when it is not)."""
        tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate) - n
        self.tokens, self.stamp = tokens, now
        return -tokens / self.rate if tokens < 0 else 0.0
