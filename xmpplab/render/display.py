"""The display mixin and bundle helpers of the views (they live in :mod:`xmpplab.display`).

Views inherit :class:`Displayable` (``_display_text`` for text/plain,
``_display_html`` for text/html, each computed only when asked for); data
and drivers (JID, transcript items, the Client, the Lab) inherit
:class:`xmpplab.display.Shown` and are drawn by the renderers that
:mod:`xmpplab.render.objects` and :mod:`xmpplab.render.cards` register by type.
"""

from __future__ import annotations

from ..display import HTML, PLAIN, Displayable, html_for, make_bundle, mimebundle, text_for

__all__ = ["HTML", "PLAIN", "Displayable", "html_for", "make_bundle", "mimebundle", "text_for"]
