"""Tests for the domain part of a JID (RFC 7622 section 3.2: IDNA2008 labels, IP literals, length limits)."""

from __future__ import annotations

import pytest

from xmpplab.jid import JID, InvalidJID

# ---------------------------------------------------------------------------
# Domain part (RFC 7622 section 3.2)
# ---------------------------------------------------------------------------


def test_domain_is_lower_cased():
    assert JID("juliet@EXAMPLE.Com").domain == "example.com"


def test_one_trailing_dot_is_stripped():
    assert JID("juliet@example.com./balcony") == JID("juliet@example.com/balcony")
    assert str(JID("example.com.")) == "example.com"


@pytest.mark.parametrize("text", ["example.com..", ".", "juliet@./r", ".example.com", "a..b",  # dots
                                  "[::g]", "[::1", "[]", "[::1%eth0]", "[127.0.0.1]", "::1"])  # IP literals
def test_bad_dots_and_ip_literals(text):
    with pytest.raises(InvalidJID) as info:
        JID(text)
    assert info.value.part == "domain"


def test_internationalised_domain_is_kept_as_u_labels():
    assert JID("juliet@ex\u00e4mple.com").domain == "ex\u00e4mple.com"


def test_domain_uppercase_non_ascii_is_mapped():
    assert JID("juliet@EX\u00c4MPLE.COM").domain == "ex\u00e4mple.com"


def test_a_labels_are_converted_to_u_labels():
    j = JID("juliet@xn--exmple-cua.com")
    assert j.domain == "ex\u00e4mple.com"
    assert j == JID("juliet@ex\u00e4mple.com")
    assert JID("XN--BCHER-KVA.example").domain == "b\u00fccher.example"


def test_ideographic_full_stop_separates_labels():
    assert JID("example\u3002com").domain == "example.com"


def test_bogus_a_label_is_rejected():
    with pytest.raises(InvalidJID) as info:
        JID("xn--abc.com")
    assert info.value.part == "domain"
    assert "A-label" in info.value.reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ex_ample.com", "the domain part contains a character that is not allowed in "
                         "domain names: U+005F LOW LINE"),
        ("-example.com", "the domain part has a label that starts or ends with '-'"),
        ("example-.com", "the domain part has a label that starts or ends with '-'"),
        ("ab--cd.com", "the domain part has a label with '--' in the third and fourth positions"),
        ("a" * 64 + ".com", "the domain part has a label longer than 63 bytes"),
        ("ex\u265ample.com", "the domain part contains a character that is not allowed in "
                             "domain names: U+265A BLACK CHESS KING"),
    ],
)
def test_invalid_domains(text, reason):
    with pytest.raises(InvalidJID) as info:
        JID(text)
    assert info.value.part == "domain"
    assert info.value.reason.startswith(reason)


def test_label_length_limit_is_63():
    assert JID("a" * 63 + ".com").domain == "a" * 63 + ".com"


def test_label_limit_applies_to_the_a_label_form():
    # 60 x a-umlaut is 60 characters but its A-label is far over 63 octets.
    with pytest.raises(InvalidJID) as info:
        JID("\u00e4" * 60 + ".com")
    assert info.value.reason == "the domain part has a label longer than 63 bytes"


def test_domain_length_limit_is_1023_bytes_not_dns_253():
    label = "a" * 63
    exactly = ".".join([label] * 16)  # 16 * 63 + 15 dots = 1023
    assert len(exactly) == 1023
    assert JID(exactly).domain == exactly
    too_long = exactly + ".b"
    with pytest.raises(InvalidJID) as info:
        JID(too_long)
    assert info.value.part == "domain"
    assert info.value.reason == "the domain part is longer than 1023 bytes"


def test_ipv6_literal():
    j = JID("juliet@[::1]/balcony")
    assert j.domain == "[::1]"
    assert str(j) == "juliet@[::1]/balcony"


def test_ipv6_literal_hex_is_lower_cased():
    assert JID("[2001:DB8::A]").domain == "[2001:db8::a]"


def test_ipv4_literal():
    assert JID("juliet@127.0.0.1").domain == "127.0.0.1"
