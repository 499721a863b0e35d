"""Accounts made with the servers' own tools, as chapter 13 shows them: ``prosodyctl register`` and
``ejabberdctl register`` against a Prosody and an ejabberd of our own on loopback, then a login with
the new account. ejabberdctl reaches its node without epmd: nothing listens beyond loopback."""

import asyncio
import subprocess

import psutil
import pytest

from tests.peers import INSTALL_HINT, need_program
from xmpplab.client import Client, ConnectError
from xmpplab.testing.ejabberd import EjabberdServer, ejabberd_path
from xmpplab.testing.prosody import ProsodyServer, prosody_path

pytestmark = pytest.mark.peer


async def login(server, password):
    return await Client.connect("mercutio@example.com/street", password, host=server.host, port=server.port,
                                verify_tls=False)


async def test_prosodyctl_register_makes_an_account_that_logs_in():
    need_program("prosody", prosody_path() is not None, f"apt-get install prosody, or run {INSTALL_HINT}")
    async with ProsodyServer(domains=["example.com"]) as prosody:
        with pytest.raises(ConnectError):
            await login(prosody, "queenmab")
        command = prosody.ctl_command("register", "mercutio", "example.com", "queenmab")
        assert command[1:] == ["--config", str(prosody.config_file), "register", "mercutio", "example.com",
                               "queenmab"]
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        client = await login(prosody, "queenmab")
        assert str(client.jid) == "mercutio@example.com/street"
        await client.disconnect()


async def test_ejabberdctl_register_reaches_a_node_on_loopback_only():
    need_program("ejabberd", ejabberd_path() is not None, f"apt-get install ejabberd, or run {INSTALL_HINT}")
    async with EjabberdServer(domains=["example.com"], ctl=True) as ejabberd:
        listening = [c.laddr for c in psutil.Process(ejabberd.pid).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN]
        assert len(listening) == 2 and all(addr.ip == "127.0.0.1" for addr in listening), listening
        done = await asyncio.to_thread(subprocess.run, ejabberd.ctl_command("register", "mercutio", "example.com",
                                                                            "queenmab"), capture_output=True,
                                       text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "successfully registered" in done.stdout
        client = await login(ejabberd, "queenmab")
        assert str(client.jid) == "mercutio@example.com/street"
        await client.disconnect()
        with pytest.raises(RuntimeError, match="ctl=True"):
            EjabberdServer().ctl_command("status")
