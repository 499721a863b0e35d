"""Tests for xmpplab.jid: XMPP addresses per RFC 7622 (PRECIS + IDNA2008)."""

from __future__ import annotations

import copy
import pickle
import random

import pytest

from xmpplab import jid as jidmod
from xmpplab import jid_domain, jid_part, jid_precis
from xmpplab.jid import JID, InvalidJID, is_valid_jid, parse_jid

# ---------------------------------------------------------------------------
# RFC 7622 section 3.5.1: valid examples, with the parts we expect after
# normalisation (local, domain, resource).
# ---------------------------------------------------------------------------

RFC_VALID = [
    ("juliet@example.com", ("juliet", "example.com", None)),
    ("juliet@example.com/foo", ("juliet", "example.com", "foo")),
    ("juliet@example.com/foo bar", ("juliet", "example.com", "foo bar")),
    ("juliet@example.com/foo@bar", ("juliet", "example.com", "foo@bar")),
    ("foo\\20bar@example.com", ("foo\\20bar", "example.com", None)),
    ("fussball@example.com", ("fussball", "example.com", None)),
    ("fu\u00dfball@example.com", ("fu\u00dfball", "example.com", None)),
    ("\u03c0@example.com", ("\u03c0", "example.com", None)),
    # Capital sigma is lower-cased to small sigma by UsernameCaseMapped.
    ("\u03a3@example.com/foo", ("\u03c3", "example.com", "foo")),
    ("\u03c3@example.com/foo", ("\u03c3", "example.com", "foo")),
    # Final sigma is already lower case: it is kept, not folded to sigma.
    ("\u03c2@example.com/foo", ("\u03c2", "example.com", "foo")),
    ("king@example.com/\u265a", ("king", "example.com", "\u265a")),
    ("example.com", (None, "example.com", None)),
    ("example.com/foobar", (None, "example.com", "foobar")),
    ("a.example.com/b@example.net", (None, "a.example.com", "b@example.net")),
]


@pytest.mark.parametrize(("text", "parts"), RFC_VALID)
def test_rfc7622_valid_examples(text, parts):
    j = JID(text)
    assert (j.local, j.domain, j.resource) == parts
    assert is_valid_jid(text)


# RFC 7622 section 3.5.2: invalid examples, with the part we blame and a
# piece of the reason.
RFC_INVALID = [
    ('"juliet"@example.com', "local", "the local part contains '\"', which is not allowed"),
    ("foo bar@example.com", "local",
     "the local part contains a character that PRECIS forbids: U+0020 SPACE"),
    ("juliet@example.com/", "resource", "the resource part is empty"),
    ("@example.com/", "local", "the local part is empty"),
    ("henry\u2163@example.com", "local",
     "the local part contains a character that PRECIS forbids: U+2163 ROMAN NUMERAL FOUR"),
    ("\u265a@example.com", "local",
     "the local part contains a character that PRECIS forbids: U+265A BLACK CHESS KING"),
    ("juliet@", "domain", "the domain part is empty"),
    ("/foobar", "domain", "the domain part is empty"),
]


@pytest.mark.parametrize(("text", "part", "reason"), RFC_INVALID)
def test_rfc7622_invalid_examples(text, part, reason):
    with pytest.raises(InvalidJID) as info:
        JID(text)
    err = info.value
    assert err.part == part
    assert err.reason.startswith(reason)
    assert err.jid == text
    assert str(err) == f"invalid JID {text!r}: {err.reason}"
    assert not is_valid_jid(text)


def test_error_message_is_one_readable_sentence():
    with pytest.raises(InvalidJID) as info:
        JID("juliet@example.com/")
    assert str(info.value) == "invalid JID 'juliet@example.com/': the resource part is empty"
    assert isinstance(info.value, ValueError)


def test_precis_error_names_the_kind_of_problem():
    with pytest.raises(InvalidJID) as info:
        JID("foo bar@example.com")
    assert info.value.reason == (
        "the local part contains a character that PRECIS forbids: "
        "U+0020 SPACE (spaces are not allowed here)"
    )


def test_precis_error_shows_the_typed_character_not_its_lowercase():
    # PRECIS lower-cases U+2163 to U+2173 before rejecting it; the message
    # should name what the user typed.
    with pytest.raises(InvalidJID) as info:
        JID("henry\u2163@example.com")
    assert "U+2163 ROMAN NUMERAL FOUR" in info.value.reason
    assert "U+2173" not in info.value.reason


def test_unnamed_characters_are_described_by_category():
    with pytest.raises(InvalidJID) as info:
        JID("juliet@example.com/a\x07b")
    assert info.value.part == "resource"
    assert "U+0007 <control>" in info.value.reason


def test_empty_string_is_a_whole_jid_error():
    with pytest.raises(InvalidJID) as info:
        JID("")
    assert info.value.part == "jid"
    assert "empty" in info.value.reason


def test_invalid_jid_pickles():
    with pytest.raises(InvalidJID) as info:
        JID("juliet@")
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.jid, clone.part, clone.reason) == ("juliet@", "domain", "the domain part is empty")
    assert str(clone) == str(info.value)


def test_long_input_is_shortened_in_the_message_but_kept_on_the_error():
    text = "a" * 2000 + "@example.com"
    with pytest.raises(InvalidJID) as info:
        JID(text)
    assert info.value.jid == text
    assert len(str(info.value)) < 200
    assert str(info.value).endswith("the local part is longer than 1023 bytes")


# ---------------------------------------------------------------------------
# Splitting (RFC 7622 section 3.1)
# ---------------------------------------------------------------------------


def test_resource_starts_at_first_slash_and_may_contain_slash_and_at():
    j = JID("juliet@example.com/a/b@c/d")
    assert j.local == "juliet"
    assert j.domain == "example.com"
    assert j.resource == "a/b@c/d"


def test_at_sign_after_slash_does_not_start_a_local_part():
    j = JID("example.com/juliet@example.net")
    assert j.local is None
    assert j.domain == "example.com"


def test_second_at_sign_lands_in_the_domain_and_is_rejected():
    with pytest.raises(InvalidJID) as info:
        JID("a@b@example.com")
    assert info.value.part == "domain"
    assert info.value.reason == "the domain part contains '@', which is not allowed"


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
# Domain part (RFC 7622 section 3.2)
# ---------------------------------------------------------------------------


def test_domain_is_lower_cased():
    assert JID("juliet@EXAMPLE.Com").domain == "example.com"


def test_one_trailing_dot_is_stripped():
    assert JID("juliet@example.com./balcony") == JID("juliet@example.com/balcony")
    assert str(JID("example.com.")) == "example.com"


@pytest.mark.parametrize("text", ["example.com..", ".", "juliet@./r", ".example.com", "a..b"])
def test_bad_dots(text):
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


@pytest.mark.parametrize("text", ["[::g]", "[::1", "[]", "[::1%eth0]", "[127.0.0.1]", "::1"])
def test_bad_ip_literals(text):
    with pytest.raises(InvalidJID) as info:
        JID(text)
    assert info.value.part == "domain"


def test_ipv4_literal():
    assert JID("juliet@127.0.0.1").domain == "127.0.0.1"


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


# ---------------------------------------------------------------------------
# The JID object
# ---------------------------------------------------------------------------


def test_bare_and_full():
    j = JID("Juliet@Example.com/balcony")
    assert j.is_full and not j.is_bare
    assert j.full == "juliet@example.com/balcony"
    assert j.bare == JID("juliet@example.com")
    assert j.bare.is_bare and not j.bare.is_full
    assert j.bare.resource is None
    assert j.bare.full == "juliet@example.com"


def test_bare_of_a_bare_jid_is_itself():
    j = JID("juliet@example.com")
    assert j.bare is j


def test_is_domain():
    assert JID("example.com").is_domain
    assert JID("example.com/foo").is_domain
    assert not JID("juliet@example.com").is_domain


def test_absent_parts_are_none():
    j = JID("example.com")
    assert j.local is None
    assert j.resource is None


def test_str_and_repr_are_canonical():
    j = JID("JULIET@EXAMPLE.COM./Balcony")
    assert str(j) == "juliet@example.com/Balcony"
    assert repr(j) == "JID('juliet@example.com/Balcony')"
    assert eval(repr(j), {"JID": JID}) == j


def test_equality_with_strings():
    j = JID("juliet@example.com/balcony")
    assert j == "juliet@example.com/balcony"
    assert j == "JULIET@Example.com./balcony"
    assert "juliet@example.com/balcony" == j  # noqa: SIM300 - the string on the left is the point
    assert j != "juliet@example.com/Balcony"
    assert j != "juliet@example.com"


def test_equality_with_invalid_string_is_false_without_raising():
    j = JID("juliet@example.com")
    assert (j == "juliet@") is False
    assert (j != "foo bar@example.com") is True
    assert (j == "") is False


def test_equality_with_other_types():
    j = JID("example.com")
    assert j != 42
    assert j != None  # noqa: E711
    assert j != b"example.com"


def test_hash_is_consistent_with_equality():
    a = JID("Juliet@Example.com/balcony")
    b = JID(local="juliet", domain="EXAMPLE.COM", resource="balcony")
    assert a == b
    assert hash(a) == hash(b)
    assert hash(a) == hash("juliet@example.com/balcony")
    assert len({a, b, JID("juliet@example.com/balcony")}) == 1
    assert {a: 1}[b] == 1


def test_immutable():
    j = JID("juliet@example.com")
    with pytest.raises(AttributeError):
        j.local = "romeo"
    with pytest.raises(AttributeError):
        del j.domain
    with pytest.raises(AttributeError):
        j.extra = 1
    assert not hasattr(j, "__dict__")
    assert j.local == "juliet"


def test_copy_and_pickle():
    j = JID("juliet@example.com/balcony")
    assert copy.copy(j) == j
    assert copy.deepcopy(j) == j
    clone = pickle.loads(pickle.dumps(j))
    assert clone == j
    assert (clone.local, clone.domain, clone.resource) == ("juliet", "example.com", "balcony")


def test_jid_of_jid_is_equal():
    j = JID("juliet@example.com/balcony")
    assert JID(j) == j
    assert str(JID(j)) == str(j)


def test_keyword_construction():
    j = JID(local="Juliet", domain="Example.com.", resource="Balcony")
    assert str(j) == "juliet@example.com/Balcony"
    assert JID(domain="example.com") == "example.com"
    assert JID(domain="example.com", resource="a/b@c").resource == "a/b@c"


def test_keyword_construction_errors():
    with pytest.raises(InvalidJID) as info:
        JID(local="juliet", domain="")
    assert info.value.part == "domain"
    with pytest.raises(InvalidJID) as info:
        JID(local="", domain="example.com")
    assert info.value.part == "local"
    assert info.value.reason == "the local part is empty"
    with pytest.raises(InvalidJID) as info:
        JID(local="juliet", resource="r")
    assert info.value.part == "domain"
    with pytest.raises(InvalidJID) as info:
        JID(domain="example.com/foo")
    assert info.value.reason == "the domain part contains '/', which is not allowed"
    with pytest.raises(InvalidJID) as info:
        JID(local="foo bar", domain="example.com")
    assert info.value.jid == "foo bar@example.com"
    assert str(info.value).startswith("invalid JID 'foo bar@example.com': the local part")


def test_type_errors():
    with pytest.raises(TypeError):
        JID()
    with pytest.raises(TypeError):
        JID(42)
    with pytest.raises(TypeError):
        JID(b"example.com")
    with pytest.raises(TypeError):
        JID("juliet@example.com", resource="x")
    with pytest.raises(TypeError):
        JID(domain=b"example.com")


def test_with_resource():
    j = JID("juliet@example.com/balcony")
    k = j.with_resource("Garden")
    assert str(k) == "juliet@example.com/Garden"
    assert str(j) == "juliet@example.com/balcony"  # unchanged
    assert j.with_resource(None) == "juliet@example.com"
    assert j.with_resource(None).is_bare
    assert JID("example.com").with_resource("x").full == "example.com/x"


def test_with_resource_validates():
    with pytest.raises(InvalidJID) as info:
        JID("juliet@example.com").with_resource("")
    assert info.value.part == "resource"
    assert info.value.reason == "the resource part is empty"


def test_parse_jid_and_is_valid_jid():
    assert parse_jid("Juliet@example.com") == JID("juliet@example.com")
    with pytest.raises(InvalidJID):
        parse_jid("juliet@")
    assert is_valid_jid("juliet@example.com/balcony")
    assert is_valid_jid(JID("example.com"))
    assert not is_valid_jid("juliet@example.com/")
    assert not is_valid_jid(None)
    assert not is_valid_jid(42)


def test_invalid_input_raises_every_time():
    for _ in range(3):
        with pytest.raises(InvalidJID) as info:
            JID("juliet@example.com/")
        assert info.value.part == "resource"


def test_cached_parse_returns_equal_jids():
    text = "cache-test-user@example.org/res"
    assert JID(text) is JID(text)


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
