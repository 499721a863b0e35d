"""Does a received stanza match the one a script expects? Scansion's rules, with the reasons why not.

Scansion's documentation (Client class, "Matching rules") defines two modes:

* **non-strict**: every attribute of the expected element must be on the
  received one, with the same value (extra received attributes are fine);
  every expected child must match a received child (extra received children
  are fine, order does not matter); text is compared only when the expected
  element has some.
* **strict**: the same attributes on both sides, no more; the same children,
  no more, in the same order; the same text (an expected element without
  text expects none).

Elements in the default namespace (``jabber:client``: the stanza itself,
``<body/>``, ``<subject/>``, ``<status/>``...) are matched non-strictly;
elements in any other namespace (payloads: ``<query xmlns='jabber:iq:roster'>``
and everything inside it) strictly. ``scansion:strict="true"`` or ``"false"``
on an expected element overrides that for the element itself (its attributes,
text and list of children); each child again follows its own namespace or
its own ``scansion:strict``.

In both modes ``{scansion:any}`` as an attribute value matches any value (the
attribute must be there); as text it matches any text. xmpplab also accepts
it inside a longer value (``room@conference.localhost/{scansion:any}``),
where it matches any run of characters. Leading and trailing whitespace of
text is ignored, and so is whitespace-only text (the indentation of scripts).
Variables (``${Romeo's full JID}``) are expanded before matching: see
:func:`expand_element`.

:func:`compare` returns every :class:`Difference` (an empty list is a match),
each with the path of the element it is about::

    iq/query/name: text is 'xmpplab', expected 'Prosody'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..xml import NS_CLIENT, NS_XML, split_qname
from .script import ANY, SCANSION_NS, STRICT_ATTR, ScriptError, to_scansion_xml

_VARIABLE = re.compile(r"\$\{([^{}]+)\}")


@dataclass(frozen=True)
class Difference:
    """One reason a received element does not match: where (a path such as ``iq/query/item[2]``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class UnknownVariable(ScriptError):
    """A ``${...}`` variable that has no value (yet): unknown name, or a client that has not connected."""


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Replace ``${Romeo's full JID}`` and friends by their values.

    >>> expand("${Romeo's JID}/balcony", {"Romeo's JID": "romeo@localhost"})
    'romeo@localhost/balcony'
    """
    if "${" not in text:
        return text

    def value(m: re.Match) -> str:
        name = m.group(1)
        if name in variables:
            return variables[name]
        known = ", ".join("${" + k + "}" for k in variables) or "none"
        raise UnknownVariable(f"${{{name}}} has no value here (known: {known})")

    return _VARIABLE.sub(value, text)


def expand_element(el, variables: Mapping[str, str]):
    """A copy of ``el`` with the variables in its attribute values and texts expanded."""
    el = copy.deepcopy(el)
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        for key, val in node.attrib.items():
            if "${" in val:
                node.set(key, expand(val, variables))
        if node.text and "${" in node.text:
            node.text = expand(node.text, variables)
        if node.tail and "${" in node.tail:
            node.tail = expand(node.tail, variables)
    return el


def is_strict(el, default_ns: str = NS_CLIENT) -> bool:
    """Strict unless ``scansion:strict`` says otherwise or the element is in the default namespace."""
    flag = el.get(STRICT_ATTR)
    if flag is not None:
        return flag.strip().lower() not in ("false", "0", "no")
    return split_qname(el.tag)[0] != default_ns


def value_matches(expected: str, got: str | None) -> bool:
    """Equal, or equal where ``{scansion:any}`` stands for any run of characters."""
    if got is None:
        return False
    if ANY not in expected:
        return expected == got
    pattern = ".*".join(re.escape(part) for part in expected.split(ANY))
    return re.fullmatch(pattern, got, re.DOTALL) is not None


def matches(expected, got, default_ns: str = NS_CLIENT) -> bool:
    """True when ``got`` matches ``expected`` (see :func:`compare`)."""
    return not compare(expected, got, default_ns=default_ns)


def compare(expected, got, path: str | None = None, default_ns: str = NS_CLIENT) -> list[Difference]:
    """Every difference between what was expected and what was received (empty: they match)."""
    path = path or _local(expected.tag)
    if expected.tag != got.tag:
        return [Difference(path, f"expected {_describe(expected)}, got {_describe(got)}")]
    strict = is_strict(expected, default_ns)
    diffs: list[Difference] = []
    diffs += _compare_attributes(expected, got, path, strict)
    diffs += _compare_text(expected, got, path, strict)
    if strict:
        diffs += _compare_children_strict(expected, got, path, default_ns)
    else:
        diffs += _compare_children_loose(expected, got, path, default_ns)
    return diffs


def _compare_attributes(expected, got, path: str, strict: bool) -> list[Difference]:
    diffs = []
    wanted = {k: v for k, v in expected.attrib.items() if not k.startswith(f"{{{SCANSION_NS}}}")}
    for key, value in wanted.items():
        received = got.get(key)
        if received is None:
            diffs.append(Difference(path, f"attribute {_attr(key)} is missing (expected {value!r})"))
        elif not value_matches(value, received):
            diffs.append(Difference(path, f"attribute {_attr(key)} is {received!r}, expected {value!r}"))
    if strict:
        for key, received in got.attrib.items():
            if key not in wanted:
                diffs.append(Difference(path, f"unexpected attribute {_attr(key)}={received!r} (strict match)"))
    return diffs


def _compare_text(expected, got, path: str, strict: bool) -> list[Difference]:
    want, have = _text(expected), _text(got)
    if want == ANY or not (strict or want):
        return []
    if value_matches(want, have):
        return []
    if not want:
        return [Difference(path, f"text is {have!r}, expected none (strict match)")]
    if not have:
        return [Difference(path, f"text is missing (expected {want!r})")]
    return [Difference(path, f"text is {have!r}, expected {want!r}")]


def _compare_children_strict(expected, got, path: str, default_ns: str) -> list[Difference]:
    want, have = _elements(expected), _elements(got)
    if [c.tag for c in want] != [c.tag for c in have]:
        def listed(els) -> str:
            return ", ".join(_describe(c, expected.tag) for c in els) or "none"

        return [Difference(path, f"children are {listed(have)}; expected {listed(want)} (strict match: "
                                 "the same children in the same order)")]
    diffs = []
    paths = _child_paths(path, want)
    for w, h, p in zip(want, have, paths, strict=True):
        diffs += compare(w, h, p, default_ns)
    return diffs


def _compare_children_loose(expected, got, path: str, default_ns: str) -> list[Difference]:
    want, have = _elements(expected), _elements(got)
    if not want:
        return []
    paths = _child_paths(path, want)
    # Which received child could stand for which expected child (all differences, once each).
    found = [[compare(w, h, p, default_ns) for h in have] for w, p in zip(want, paths, strict=True)]
    fits = [[j for j, d in enumerate(row) if not d] for row in found]
    assigned = _assign(fits, len(have))
    diffs: list[Difference] = []
    used = set(assigned.values())
    for i, (w, p) in enumerate(zip(want, paths, strict=True)):
        if i in assigned:
            continue
        # Explain with the one unused received child of the same name, if there is exactly one.
        same = [j for j, h in enumerate(have) if h.tag == w.tag and j not in used]
        if len(same) == 1:
            used.add(same[0])
            diffs += found[i][same[0]]
        elif same:
            diffs.append(Difference(p, f"none of the {len(same)} received {_describe(w, expected.tag)} "
                                       f"matches {_one_line(w, expected.tag)}"))
        elif any(h.tag == w.tag for h in have):
            diffs.append(Difference(p, f"{_describe(w, expected.tag)} is expected once more than it was received"))
        else:
            diffs.append(Difference(p, f"{_describe(w, expected.tag)} is missing"))
    return diffs


def _assign(fits: list[list[int]], n_have: int) -> dict[int, int]:
    """A maximum matching of expected children to distinct received children (augmenting paths)."""
    owner: dict[int, int] = {}  # received index -> expected index

    def augment(i: int, seen: set) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(fits)):
        augment(i, set())
    return {i: j for j, i in owner.items()}


# --- helpers ---------------------------------------------------------------------------------

def _elements(el) -> list:
    return [c for c in el if isinstance(c.tag, str)]


def _text(el) -> str:
    return ((el.text or "") + "".join(c.tail or "" for c in el)).strip()


def _local(tag: str) -> str:
    return split_qname(tag)[1]


def _describe(el, parent_tag: str | None = None) -> str:
    ns, name = split_qname(el.tag)
    parent_ns = split_qname(parent_tag)[0] if parent_tag else NS_CLIENT
    return f"<{name}/>" if ns == parent_ns else f"<{name} xmlns='{ns}'/>"


def _one_line(el, parent_tag: str) -> str:
    text = "".join(line.strip() for line in to_scansion_xml(
        el, indent="", parent_ns=split_qname(parent_tag)[0], sort_attributes=True).split("\n"))
    return text if len(text) <= 90 else text[:87] + "..."


def _attr(key: str) -> str:
    ns, name = split_qname(key)
    if not ns:
        return name
    return f"xml:{name}" if ns == NS_XML else f"{{{ns}}}{name}"


def _child_paths(path: str, children: list) -> list[str]:
    counts: dict[str, int] = {}
    for c in children:
        counts[c.tag] = counts.get(c.tag, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for c in children:
        seen[c.tag] = seen.get(c.tag, 0) + 1
        suffix = f"[{seen[c.tag]}]" if counts[c.tag] > 1 else ""
        out.append(f"{path}/{_local(c.tag)}{suffix}")
    return out
