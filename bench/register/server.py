"""`bench register serve`: bind first (so port 0 works), say where, then run uvicorn."""

from __future__ import annotations

import socket
import sys

from bench.register.api.app import create_app
from bench.register.api.routing import DEFAULT_MAX_BODY
from bench.register.service import open_register


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: answers go out at once instead of waiting on the client's
    # delayed ACK (40 ms per request on a kept-alive connection without it).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def serve(
    db_url: str | None,
    host: str = "127.0.0.1",
    port: int = 8750,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    log_level: str = "warning",
    tls_cert: str | None = None,
    tls_key: str | None = None,
    trust_proxy: str = "",
) -> None:
    """Run until SIGTERM/SIGINT. `trust_proxy`: addresses of reverse proxies whose
    X-Forwarded-For names the client (the failed-token limiter counts per client address);
    empty = trust no header, so nobody can pose as another address."""
    import uvicorn

    register = open_register(db_url)
    app = create_app(register, max_body=max_body)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if tls_cert else "http"
    # Tests and supervisors read this line to learn the port (port 0 = any free one).
    print(f"listening on {scheme}://{shown}:{bound} (database: {register.dialect})", flush=True)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        server_header=False,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        proxy_headers=bool(trust_proxy),
        forwarded_allow_ips=trust_proxy or None,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        register.close()
        sys.stdout.flush()
