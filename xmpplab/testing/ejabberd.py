"""Start a real ejabberd on loopback, for tests (a second reference server next to Prosody).

ejabberd is an XMPP server written in Erlang; Debian packages it as
``ejabberd``. Like :mod:`xmpplab.testing.prosody`, the launcher never touches
the system service: it writes its own config, spool (Mnesia database) and
log into a temporary folder, generates a self-signed certificate, starts the
Erlang VM as a child process and waits until the client port accepts
connections::

    from xmpplab.testing.ejabberd import EjabberdServer, ejabberd_path

    if ejabberd_path() is None:
        ...  # skip: ejabberd is not installed

    async with EjabberdServer(domains=["example.com"]) as ejabberd:
        await ejabberd.aregister("alice", "example.com", "secret")
        connect_to(ejabberd.host, ejabberd.port)

Facts about the Debian package (23.01) that shape this module:

* ``ejabberdctl`` starts a *distributed* Erlang node, which needs ``epmd``
  (a daemon listening on port 4369 of every interface, outliving the node),
  and goes through ``su``, which resets the open-files limit to 1024. The
  launcher runs ``erl -s ejabberd`` itself instead, as a non-distributed node
  (``nonode@nohost``): no epmd, no Erlang distribution port, nothing listening
  but the client port. ejabberd and Mnesia work fine that way; only
  ``ejabberdctl``, which talks to the node over distribution, cannot reach it.
  With ``ctl=True`` the node is distributed after all, but without epmd: it
  takes a name, a random cookie and one distribution port on loopback
  (``-erl_epmd_port PORT -start_epmd false``), and :meth:`EjabberdServer.ctl_command`
  gives the ``ejabberdctl`` command line (with a ctl config of its own,
  ``ERL_DIST_PORT``) that reaches it there: ``ejabberdctl register`` works.
* Accounts are therefore created by in-band registration (XEP-0077):
  ``mod_register`` on, and ``registration_timeout: infinity``, because by
  default ejabberd allows one registration per IP address every 600 seconds.
* As root the VM runs as the ``ejabberd`` user (as ``ejabberdctl`` would);
  that user owns the temporary folder.
* The listen backlog defaults to 5; the launcher sets 1024.
* ``certfiles`` wants the certificate and the key (PEM); a self-signed one only
  draws a warning in the log.
* Start-up takes about 1.5 s (the VM, then Mnesia creating its tables).
* ejabberd answers a client's ``</stream:stream>`` only after about 100 ms.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .external import ExternalServer, RegistrationError, free_port
from .prosody import register_in_band

__all__ = [
    "EjabberdError",
    "EjabberdServer",
    "RegistrationError",
    "ejabberd_path",
    "ejabberd_version",
]

#: Modules every launched ejabberd loads.
BASE_MODULES = ("mod_roster", "mod_disco", "mod_ping", "mod_version")
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


class EjabberdError(RuntimeError):
    """ejabberd could not be started, or misbehaved."""


def ejabberd_path() -> str | None:
    """Return the path of ``ejabberdctl`` (it marks an installed ejabberd), or None."""
    return shutil.which("ejabberdctl", path=_SEARCH_PATH)


def _ctl_setting(name: str) -> str | None:
    """Read ``NAME='value'`` or ``NAME="value"`` from the ejabberdctl script (where Debian keeps its paths)."""
    ctl = ejabberd_path()
    if ctl is None:
        return None
    try:
        text = Path(ctl).read_text(errors="replace")
    except OSError:
        return None
    match = re.search(rf"^{name}=['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    return match.group(1) if match else None


def erl_path() -> str | None:
    """The ``erl`` that ejabberdctl would use."""
    erl = _ctl_setting("ERL")
    if erl and os.access(erl, os.X_OK):
        return erl
    return shutil.which("erl")


def erl_libs() -> str | None:
    """The folder holding ejabberd's Erlang applications (``ERL_LIBS``)."""
    libs = _ctl_setting("ERL_LIBS")
    if libs and os.path.isdir(libs):
        return libs
    apps = glob.glob("/usr/lib/*/ejabberd-*/ebin/ejabberd.app") + glob.glob("/usr/lib/ejabberd-*/ebin/ejabberd.app")
    for app in sorted(apps):
        return str(Path(app).parents[2])
    return None


def ejabberd_version() -> str | None:
    """Return ejabberd's version (e.g. ``"23.01-1"``) from its application file, or None."""
    libs = erl_libs()
    if libs is None:
        return None
    for app in sorted(glob.glob(os.path.join(libs, "ejabberd-*", "ebin", "ejabberd.app"))):
        try:
            match = re.search(r'\{vsn,\s*"([^"]+)"\}', Path(app).read_text(errors="replace"))
        except OSError:
            continue
        if match:
            return match.group(1)
    return None


def _yaml(value) -> str:
    """A YAML scalar: JSON's quoting is valid YAML."""
    return json.dumps(value)


class EjabberdServer(ExternalServer):
    """An ejabberd of our own, listening on loopback only (parameters: see
    :class:`~xmpplab.testing.external.ExternalServer`).

    ``require_encryption`` is ``starttls_required``: clients must use TLS
    before anything else. In-band registration then needs TLS too, which
    :meth:`register` does not do, so accounts cannot be created; leave it off
    for tests that need accounts. ``extra_modules`` are ejabberd module names
    (``("mod_offline", "mod_carboncopy")``), ``extra_config`` raw YAML appended
    to the config (top-level keys), ``log_level`` ejabberd's ``loglevel``.
    """

    name = "ejabberd"
    error = EjabberdError
    stop_timeout = 15.0    # SIGTERM is a clean Erlang shutdown
    retry_stop_timeout = 5.0

    def __init__(self, domains: Sequence[str] = ("example.com",), c2s_port: int | None = None, tls: bool = True,
                 allow_registration: bool = True, extra_modules: Sequence[str] = (), *,
                 require_encryption: bool = False, extra_config: str = "", log_level: str = "info",
                 host: str = "127.0.0.1", workdir: str | os.PathLike | None = None, keep_workdir: bool = False,
                 start_attempts: int = 2, start_timeout: float = 30.0, ctl: bool = False):
        super().__init__(domains, c2s_port, tls, allow_registration, extra_modules,
                         require_encryption=require_encryption, extra_config=extra_config,
                         log_level=log_level, host=host, workdir=workdir, keep_workdir=keep_workdir,
                         start_attempts=start_attempts, start_timeout=start_timeout)
        self.spool_dir: Path | None = None
        #: With ``ctl``: the node's name, cookie and distribution port (loopback), for ``ejabberdctl``.
        self.ctl = ctl
        self.node: str | None = None
        self.ctl_config: Path | None = None
        self._cookie = self._dist_port = None

    def _log_files(self) -> list[Path | None]:
        """ejabberd's log, then the VM's own output."""
        return [self.log_file, self.workdir / "erl.out" if self.workdir else None]

    # ------------------------------------------------------------ accounts

    def register(self, user: str, domain: str | None = None, password: str = "password",
                 *, exist_ok: bool = False, timeout: float = 10.0) -> None:
        """Create ``user@domain`` by in-band registration (blocking; not from inside a running loop)."""
        asyncio.run(self.aregister(user, domain, password, exist_ok=exist_ok, timeout=timeout))

    async def aregister(self, user: str, domain: str | None = None, password: str = "password",
                        *, exist_ok: bool = False, timeout: float = 10.0) -> None:
        """Create ``user@domain`` by in-band registration (XEP-0077) without blocking the loop.

        With ``exist_ok`` an existing account is not an error (its password is left as it was).
        """
        domain = domain or self.domain
        if not (self.allow_registration and self.running):
            raise RegistrationError("in-band registration is off, or ejabberd is not running")
        if self.require_encryption:
            raise RegistrationError("require_encryption is on: ejabberd refuses registration before TLS, "
                                    "and this helper registers over a plain stream")
        await self._register_in_band(register_in_band, user, domain, password, exist_ok, timeout)

    def ctl_command(self, *args: str) -> list[str]:
        """The ``ejabberdctl ARGS`` command line that reaches this node (started with ``ctl=True``)."""
        if not self.ctl or self.ctl_config is None:
            raise EjabberdError("start the server with ctl=True to reach it with ejabberdctl")
        return [ejabberd_path(), "--ctl-config", str(self.ctl_config), "--config", str(self.config_file),
                "--spool", str(self.spool_dir), *args]

    def register_with_ejabberdctl(self, user: str, domain: str, password: str, timeout: float = 60.0) -> None:
        """Create an account with ``ejabberdctl register`` (needs ``ctl=True``)."""
        result = subprocess.run(self.ctl_command("register", user, domain, password), capture_output=True,
                                text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RegistrationError(f"ejabberdctl register {user}@{domain} failed ({result.returncode}): "
                                    f"{result.stdout.strip()} {result.stderr.strip()}")

    # ------------------------------------------------------------- internals

    def _find_binary(self) -> tuple:
        erl, libs = erl_path(), erl_libs()
        if ejabberd_path() is None or erl is None or libs is None:
            raise EjabberdError("ejabberd is not installed (apt-get install ejabberd)")
        return erl, libs

    def _prepare_files(self) -> None:
        self.spool_dir = self.workdir / "spool"
        self.spool_dir.mkdir(exist_ok=True)
        self.config_file = self.workdir / "ejabberd.yml"
        if self.ctl:  # a distributed node without epmd: one port on loopback, a cookie of its own
            self._dist_port, self._cookie = free_port(self.host), secrets.token_hex(16)
            self.node = f"xmpplab{self._dist_port}@localhost"
            self.ctl_config = self.workdir / "ejabberdctl.cfg"
            self.ctl_config.write_text(
                f"ERLANG_NODE={self.node}\nERL_DIST_PORT={self._dist_port}\nINET_DIST_INTERFACE={self.host}\n"
                f"ERL_OPTIONS=\"-setcookie {self._cookie}\"\n")

    def _certificate_written(self) -> None:
        # ejabberd's certfiles take certificate and key together.
        (self.workdir / "cert-and-key.pem").write_bytes(self.cert_file.read_bytes() + self.key_file.read_bytes())

    def render_config(self) -> str:
        """Return the YAML config this server runs with."""
        modules = list(BASE_MODULES)
        if self.allow_registration:
            modules.append("mod_register")
        modules += [m for m in self.extra_modules if m not in modules]
        listener = [
            f"    port: {int(self.port)}",
            f"    ip: {_yaml(self.host)}",
            "    module: ejabberd_c2s",
            "    max_stanza_size: 262144",
            "    backlog: 1024",
        ]
        if self.tls:
            listener.append("    starttls: true")
            if self.require_encryption:
                listener.append("    starttls_required: true")
        lines = [
            "# Written by xmpplab.testing.ejabberd; loopback only.",
            f"loglevel: {self.log_level}",
            "log_rotate_count: 0",
            "hosts:",
            *(f"  - {_yaml(d)}" for d in self.domains),
        ]
        if self.tls:
            lines += ["certfiles:", f"  - {_yaml(str(self.workdir / 'cert-and-key.pem'))}"]
        lines += [
            "listen:",
            "  -",
            *listener,
            "auth_method: internal",
            "auth_password_format: scram",
            # By default one in-band registration per IP address every 600 s.
            "registration_timeout: infinity",
            "acl:",
            "  loopback:",
            "    ip:",
            "      - 127.0.0.0/8",
            "      - ::1/128",
            "access_rules:",
            "  register:",
            "    allow: all",
            "  c2s:",
            "    allow: all",
            "shaper_rules:",
            "  max_user_sessions: 100",
            "modules:",
        ]
        for module in modules:
            if module == "mod_register":
                lines += ["  mod_register:", "    access: register", "    ip_access: all"]
            elif module == "mod_version":
                lines += ["  mod_version:", "    show_os: false"]
            else:
                lines.append(f"  {module}: {{}}")
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"

    def _spawn(self, erl: str, libs: str) -> subprocess.Popen:
        """Start ``erl -noinput -mnesia dir ... -s ejabberd`` (a non-distributed node)."""
        kwargs, env, _user = self._child_options()
        env.update(
            HOME=str(self.workdir),
            EJABBERD_CONFIG_PATH=str(self.config_file),
            EJABBERD_LOG_PATH=str(self.log_file),
            ERL_LIBS=libs,
            ERL_CRASH_DUMP=str(self.workdir / "erl_crash.dump"),
            ERL_CRASH_DUMP_BYTES="0",
        )
        node = []
        if self.ctl:  # named, on one loopback port, no epmd (which would listen on every interface)
            address = "{" + self.host.replace(".", ",") + "}"
            node = ["-sname", self.node, "-setcookie", self._cookie, "-erl_epmd_port", str(self._dist_port),
                    "-start_epmd", "false", "-kernel", "inet_dist_use_interface", address]
        with open(self.workdir / "erl.out", "ab") as out:   # the child keeps its own copy of the file
            return subprocess.Popen(
                [erl, *node, "-noinput", "+K", "true", "-mnesia", "dir", f'"{self.spool_dir}"', "-s", "ejabberd"],
                cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, **kwargs)
