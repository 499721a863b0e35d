"""Tests for xmpplab.jid: XMPP addresses per RFC 7622 (PRECIS + IDNA2008): whole addresses, their errors,
splitting, and the JID object. The parts: test_jid_precis.py (local, resource), test_jid_domain.py, and the
ASCII fast paths: test_jid_fast_paths.py."""

from __future__ import annotations

import copy
import pickle

import pytest

from xmpplab.jid import JID, InvalidJID, account_jid, is_valid_jid, parse_jid

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


def test_account_jid_joins_a_user_and_a_domain_and_wants_a_user_part():
    assert account_jid("Juliet", "example.com") == JID("juliet@example.com")
    assert account_jid("juliet@example.com", "example.net") == JID("juliet@example.com")
    with pytest.raises(ValueError, match="'example.com' has no user part: say who"):
        account_jid("example.com", hint="say who")
    with pytest.raises(InvalidJID):
        account_jid("juliet@", "example.com")
