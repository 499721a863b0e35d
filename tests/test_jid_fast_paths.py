"""The ASCII fast paths of JID parsing agree with full PRECIS / IDNA processing (xmpplab.jid_precis,
xmpplab.jid_domain)."""

from __future__ import annotations

import random

from xmpplab import jid as jidmod
from xmpplab import jid_domain, jid_part, jid_precis

# ---------------------------------------------------------------------------
# The ASCII fast paths must agree with full PRECIS / IDNA processing.
# ---------------------------------------------------------------------------


def _outcome(fn, value):
    try:
        return ("ok", fn(value))
    except jid_part.PartError as err:
        return ("error", err.part, err.reason)


ASCII = [chr(i) for i in range(128)]


def _domain_reference(value):
    # _prep_domain strips one trailing dot (RFC 7622 section 3.2) first.
    return jid_domain.domain_slow(value[:-1] if value.endswith(".") else value)


def test_local_fast_path_matches_precis_for_all_ascii_pairs():
    for a in ASCII:
        for b in ("", "a", "Z", "0", "."):
            for s in (a + b, b + a):
                if not s:
                    continue
                assert _outcome(jid_precis.prep_local, s) == _outcome(jid_precis.local_slow, s), s


def test_resource_fast_path_matches_precis_for_all_ascii_pairs():
    for a in ASCII:
        for b in ("", "a", "Z", " ", "/"):
            s = a + b
            assert _outcome(jid_precis.prep_resource, s) == _outcome(jid_precis.resource_slow, s), s


def test_domain_fast_path_matches_idna_for_all_ascii_characters():
    for a in ASCII:
        for s in (a, "x" + a, a + "x", "ex" + a + "mple.com", "a." + a):
            assert _outcome(jid_domain.prep_domain, s) == _outcome(_domain_reference, s), s


def test_fast_paths_match_on_random_ascii():
    rng = random.Random(7622)
    local_alphabet = "aZ09._-+!\\\"&'<>:~ #%"
    domain_alphabet = "aZz09-.."
    for _ in range(3000):
        s = "".join(rng.choice(local_alphabet) for _ in range(rng.randint(1, 8)))
        assert _outcome(jid_precis.prep_local, s) == _outcome(jid_precis.local_slow, s), s
        assert _outcome(jid_precis.prep_resource, s) == _outcome(jid_precis.resource_slow, s), s
        d = "".join(rng.choice(domain_alphabet) for _ in range(rng.randint(1, 12)))
        assert _outcome(jid_domain.prep_domain, d) == _outcome(_domain_reference, d), d


def test_fast_path_boundary_lengths_match():
    for n in (1022, 1023, 1024):
        s = "A" * n
        assert _outcome(jid_precis.prep_local, s) == _outcome(jid_precis.local_slow, s)
        assert _outcome(jid_precis.prep_resource, s) == _outcome(jid_precis.resource_slow, s)


def test_plain_ascii_takes_the_fast_path(monkeypatch):
    def boom(value):
        raise AssertionError(f"slow path used for {value!r}")

    monkeypatch.setattr(jid_precis, "local_slow", boom)
    monkeypatch.setattr(jid_domain, "domain_slow", boom)
    monkeypatch.setattr(jid_precis, "resource_slow", boom)
    j = jidmod._parse_uncached("Juliet.Capulet+x@Example.COM./Balcony 2")
    assert str(j) == "juliet.capulet+x@example.com/Balcony 2"
