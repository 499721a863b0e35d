"""The classroom: one server for a class, its accounts, its room and its printable handout (issue 12).

>>> from xmpplab.classroom import prepare_class, write_handout        # doctest: +SKIP
>>> setup = prepare_class(server, "class.example", 30)                # doctest: +SKIP

:mod:`.accounts` makes the names and passwords and keeps the class list (CSV, mode 0600);
:mod:`.setup` puts the class on a running server (idempotent: a restart keeps everything);
:mod:`.handout` writes one card per student (account, password, QR code, how to connect);
:mod:`.student` joins a notebook to the class and reports its checks (:mod:`.trust`: its certificate pinned);
:mod:`.remote` runs a chapter's Lab on the class server (practice accounts, :mod:`.names`, :mod:`.rosters`);
:mod:`.partners` pairs students for the exercises that need two, through the class room;
:mod:`.teacher` runs the class's commands over XMPP (XEP-0050/0133 and ``urn:xmpplab:class:0``);
:mod:`.federation` starts a student's own server and federates it with the class server (``#federate``).
"""

from .accounts import Account, ClassroomError, make_password, new_class, read_csv, student_names, write_csv
from .federation import federate_with_class
from .handout import certificate_fingerprint, certificate_sha1, render_handout, write_handout, xmpp_uri
from .setup import ClassSetup, prepare_class
from .student import join_class, use_class
from .teacher import Teacher

__all__ = ["Account", "ClassroomError", "ClassSetup", "certificate_fingerprint", "certificate_sha1",
           "federate_with_class", "join_class", "make_password",
           "new_class", "prepare_class", "read_csv", "render_handout", "student_names", "Teacher", "use_class",
           "write_csv", "write_handout", "xmpp_uri"]
