"""`bench register serve`: bind first (so port 0 works), say where, then run uvicorn."""

from __future__ import annotations

import socket
import sys

from bench.register.app import DEFAULT_MAX_BODY, create_app
from bench.register.storage import open_storage


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def serve(db_url: str | None, host: str = "127.0.0.1", port: int = 8750, *, max_body: int = DEFAULT_MAX_BODY,
          log_level: str = "warning", tls_cert: str | None = None, tls_key: str | None = None,
          trust_proxy: str = "") -> None:
    """Run until SIGTERM/SIGINT. `trust_proxy`: addresses of reverse proxies whose
    X-Forwarded-For names the client (the failed-token limiter counts per client address);
    empty = trust no header, so nobody can pose as another address."""
    import uvicorn

    storage = open_storage(db_url)
    app = create_app(storage, max_body=max_body)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if tls_cert else "http"
    # Tests and supervisors read this line to learn the port (port 0 = any free one).
    print(f"listening on {scheme}://{shown}:{bound} (database: {storage.dialect})", flush=True)
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off",
                            timeout_keep_alive=30, server_header=False, ssl_certfile=tls_cert, ssl_keyfile=tls_key,
                            proxy_headers=bool(trust_proxy), forwarded_allow_ips=trust_proxy or None)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        storage.close()
        sys.stdout.flush()
