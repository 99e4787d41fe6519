"""Small socket helpers shared by the fake peers (adbd, usbmuxd)."""

from __future__ import annotations

import socket


def recv_exact(conn: socket.socket, n: int) -> bytes:
    """Exactly `n` bytes, or EOFError when the peer closes first."""
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf
