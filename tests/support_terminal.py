"""A terminal program driven through tmux, as a person would type: profanity in the peer tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess

from tests.peers import need_program


class Terminal:
    """One detached tmux session running ``command``: type with :meth:`keys`, read with :meth:`screen`."""

    def __init__(self, command: str, home, name: str):
        need_program("tmux", shutil.which("tmux") is not None, "apt-get install tmux")
        self.session = f"xmpplab-{name}-{os.getpid()}"
        self.env = dict(os.environ, HOME=str(home), TERM="xterm-256color")
        subprocess.run(["tmux", "new-session", "-d", "-s", self.session, "-x", "200", "-y", "50", command],
                       check=True, env=self.env)

    def keys(self, *text: str, enter: bool = True) -> None:
        """Type each text (literally), each followed by Enter unless ``enter`` is False."""
        for t in text:
            subprocess.run(["tmux", "send-keys", "-t", self.session, "-l", t], check=True, env=self.env)
            if enter:
                subprocess.run(["tmux", "send-keys", "-t", self.session, "Enter"], check=True, env=self.env)

    def screen(self) -> str:
        """What the terminal shows now."""
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.session], capture_output=True, text=True,
                              env=self.env).stdout

    async def wait_for(self, *words: str, tries: int = 100) -> bool:
        """Until one of ``words`` is on the screen (case-insensitive); False after ``tries`` looks."""
        for _ in range(tries):
            text = self.screen().lower()
            if any(w.lower() in text for w in words):
                return True
            await asyncio.sleep(0.1)  # another process: nothing to wait on but its screen
        return False

    def close(self) -> None:
        """End the tmux session and the program in it."""
        subprocess.run(["tmux", "kill-session", "-t", self.session], env=self.env, capture_output=True)

    async def profanity_login(self, jid: str, port: int, password: str) -> None:
        """In profanity: /connect to a loopback server, type the password, allow its certificate, until logged in."""
        await self.wait_for("profanity")
        self.keys(f"/connect {jid} server 127.0.0.1 port {port}")
        await self.wait_for("password")
        self.keys(password)
        await self.wait_for("/tls allow", "logged in")
        if "/tls allow" in self.screen():
            self.keys("/tls allow")
        assert await self.wait_for("logged in successfully", tries=300), self.screen()
