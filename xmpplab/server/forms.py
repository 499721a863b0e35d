"""XEP-0004 Data Forms, as far as the server's commands need them: build a form, read a submitted one.

    <x xmlns='jabber:x:data' type='form'>
      <title>Add a User</title>
      <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/admin</value></field>
      <field var='accountjid' type='jid-single' label='The Jabber ID for the account to be added'>
        <required/></field>
    </x>

>>> form = Form("Add a User", form_type="http://jabber.org/protocol/admin")
>>> form.field("accountjid", "jid-single", "The Jabber ID", required=True).tag
'{jabber:x:data}field'
>>> values(form.element("submit"))
{'FORM_TYPE': ['http://jabber.org/protocol/admin']}
"""

from __future__ import annotations

from ..xml import element, sub

NS_DATA = "jabber:x:data"
FIELD_TYPES = ("boolean", "fixed", "hidden", "jid-multi", "jid-single", "list-multi", "list-single",
               "text-multi", "text-private", "text-single")


class Form:
    """A form (or a result) to send: fields in order, each with its type, label and values (XEP-0004 §3)."""

    def __init__(self, title: str | None = None, instructions: str | None = None, form_type: str | None = None):
        self.title, self.instructions = title, instructions
        self._fields: list = []
        if form_type:
            self.field("FORM_TYPE", "hidden", values=[form_type])

    def field(self, var: str, type: str = "text-single", label: str | None = None, *, values=(),
              required: bool = False, options=()):
        """Add a field; ``options`` are (value, label) pairs for list fields."""
        if type not in FIELD_TYPES:
            raise ValueError(f"{type!r} is not a field type of XEP-0004")
        el = element("field", {"var": var, "type": type, "label": label}, ns=NS_DATA)
        if required:
            sub(el, "required")
        for value, text in options:
            opt = sub(el, "option", {"label": text})
            sub(opt, "value", text=value)
        for value in values:
            sub(el, "value", text=str(value))
        self._fields.append(el)
        return el

    def element(self, type: str = "form"):
        """The ``<x xmlns='jabber:x:data'/>`` of this form, of type form, result or submit."""
        x = element("x", {"type": type}, ns=NS_DATA)
        if self.title:
            sub(x, "title", text=self.title)
        if self.instructions:
            sub(x, "instructions", text=self.instructions)
        for f in self._fields:
            x.append(f.__copy__())  # a copy: the form can be sent again
        return x


def values(x) -> dict[str, list[str]]:
    """The values of a submitted form, by field var (every field may carry several values)."""
    out: dict[str, list[str]] = {}
    if x is None:
        return out
    for f in x.iter(f"{{{NS_DATA}}}field"):
        var = f.get("var")
        if var:
            out[var] = [(v.text or "") for v in f.iter(f"{{{NS_DATA}}}value")]
    return out


def find_form(parent):
    """The first ``<x xmlns='jabber:x:data'/>`` child of ``parent`` (or None)."""
    return parent.find(f"{{{NS_DATA}}}x") if parent is not None else None
