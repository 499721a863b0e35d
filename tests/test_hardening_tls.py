"""A client offering only TLS 1.0 or 1.1 after STARTTLS gets a TLS protocol_version alert, not a silent close.

The server's minimum is TLS 1.2 (RFC 7525 section 3.1.1, RFC 8996 deprecates 1.0 and 1.1). OpenSSL
writes the fatal alert (RFC 5246 section 7.2.2: level 2, description 70) into asyncio's
outgoing buffer, which asyncio used to drop on a failed handshake (CPython gh-98078).
"""

import asyncio
import os
import struct

import pytest

from tests.support_wait import until
from xmpplab.server import Server

HEADER = (b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
          b"to='example.com' version='1.0'>")


def client_hello(version: int) -> bytes:
    """A minimal TLS ClientHello (RFC 4346 section 7.4.1.2) offering at most ``version``."""
    suites = (0xC009, 0xC013, 0x002F, 0x0035)  # ECDHE-ECDSA/RSA-AES128-SHA, RSA-AES128/256-SHA
    groups = struct.pack("!HHH", 4, 0x0017, 0x0018)  # secp256r1, secp384r1
    extensions = struct.pack("!HH", 0x000A, len(groups)) + groups + struct.pack("!HHBB", 0x000B, 2, 1, 0)
    body = (struct.pack("!H", version) + os.urandom(32) + b"\x00"
            + struct.pack("!H", 2 * len(suites)) + b"".join(struct.pack("!H", s) for s in suites)
            + b"\x01\x00" + struct.pack("!H", len(extensions)) + extensions)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16" + struct.pack("!HH", 0x0301, len(handshake)) + handshake


async def read_until(reader, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = await asyncio.wait_for(reader.read(4096), 5)
        assert chunk, data
        data += chunk
    return data


@pytest.mark.parametrize("version", [0x0301, 0x0302])  # TLS 1.0, TLS 1.1
async def test_an_old_tls_hello_gets_a_protocol_version_alert(version):
    async with Server(["example.com"]) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(HEADER)
        await read_until(reader, b"</stream:features>")
        writer.write(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await read_until(reader, b"<proceed")
        writer.write(client_hello(version))
        alert = await asyncio.wait_for(reader.readexactly(7), 5)
        # an alert record in the client's version: fatal (2), protocol_version (70)
        assert alert == bytes([0x15, 0x03, version & 0xFF, 0x00, 0x02, 0x02, 0x46])
        writer.close()  # what a client does after a fatal alert
        await until(lambda: not srv.connections, srv, what="the connection closed on the server")
        assert not srv.connections
