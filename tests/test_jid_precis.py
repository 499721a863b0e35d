"""Tests for the local and resource parts of a JID (RFC 7622 sections 3.3 and 3.4: PRECIS UsernameCaseMapped
and OpaqueString)."""

from __future__ import annotations

import pytest

from xmpplab.jid import JID, InvalidJID, is_valid_jid

# ---------------------------------------------------------------------------
# Local part (RFC 7622 section 3.3)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("ch", list("\"&'/:<>@"))
def test_rfc7622_extra_forbidden_local_characters(ch):
    with pytest.raises(InvalidJID) as info:
        JID(local=f"ju{ch}liet", domain="example.com")
    assert info.value.part == "local"
    assert info.value.reason == f"the local part contains {ch!r}, which is not allowed"


@pytest.mark.parametrize("ch", list("&':<>\""))
def test_forbidden_local_characters_in_text(ch):
    assert not is_valid_jid(f"ju{ch}liet@example.com")


def test_fullwidth_forbidden_character_is_caught_after_width_mapping():
    # U+FF20 FULLWIDTH COMMERCIAL AT is width-mapped to '@' by PRECIS.
    with pytest.raises(InvalidJID) as info:
        JID("juliet\uff20home@example.com")
    assert info.value.part == "local"
    assert "U+FF20 FULLWIDTH COMMERCIAL AT" in info.value.reason
    assert "'@'" in info.value.reason


def test_local_part_is_case_mapped():
    assert JID("JuLiEt@example.com").local == "juliet"
    assert JID("\u00c9lodie@example.com").local == "\u00e9lodie"


def test_local_part_fullwidth_letters_are_width_mapped():
    assert JID("\uff2a\uff55\uff4c\uff49\uff45\uff54@example.com").local == "juliet"


def test_local_part_is_nfc_normalised():
    decomposed = JID("e\u0301lodie@example.com")
    assert decomposed.local == "\u00e9lodie"
    assert decomposed == JID("\u00e9lodie@example.com")


def test_sigma_variants():
    assert JID("\u03a3@example.com") == JID("\u03c3@example.com")
    assert JID("\u03c2@example.com") != JID("\u03c3@example.com")


def test_eszett_is_not_folded_to_ss():
    assert JID("fu\u00dfball@example.com") != JID("fussball@example.com")


def test_local_part_length_limit_ascii():
    assert JID("a" * 1023 + "@example.com").local == "a" * 1023
    with pytest.raises(InvalidJID) as info:
        JID("a" * 1024 + "@example.com")
    assert info.value.part == "local"
    assert info.value.reason == "the local part is longer than 1023 bytes"


def test_local_part_length_limit_counts_utf8_bytes():
    assert is_valid_jid("\u00e9" * 511 + "@example.com")  # 1022 bytes
    with pytest.raises(InvalidJID) as info:
        JID("\u00e9" * 512 + "@example.com")  # 1024 bytes, 512 characters
    assert info.value.reason == "the local part is longer than 1023 bytes"


# ---------------------------------------------------------------------------
# Resource part (RFC 7622 section 3.4)
# ---------------------------------------------------------------------------


def test_resource_case_is_preserved():
    j = JID("juliet@example.com/Balcony")
    assert j.resource == "Balcony"
    assert j != JID("juliet@example.com/balcony")


def test_resource_non_ascii_space_becomes_ascii_space():
    assert JID("juliet@example.com/foo\u3000bar").resource == "foo bar"


def test_resource_is_nfc_normalised():
    assert JID("juliet@example.com/cafe\u0301").resource == "caf\u00e9"


def test_resource_length_limit():
    assert JID("juliet@example.com/" + "r" * 1023).resource == "r" * 1023
    with pytest.raises(InvalidJID) as info:
        JID("juliet@example.com/" + "\u00e9" * 512)
    assert info.value.part == "resource"
    assert info.value.reason == "the resource part is longer than 1023 bytes"
