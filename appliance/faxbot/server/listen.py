"""The listening socket, bound before the appliance starts: a port another process holds
stops this one before it opens its database or starts a dispatcher, and `ready` is only said
once the port is really ours."""

from __future__ import annotations

import errno
import socket

BACKLOG = 2048  # uvicorn's default


class CannotListen(Exception):
    """The address cannot be bound; the message says which and why."""


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port and listening (connections wait in the backlog until
    the server accepts them). Port 0 takes a free port: read it back with `address`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, where = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restarts reuse TIME_WAIT
        sock.bind(where)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise CannotListen(
            f"cannot listen on {_hostport(host, port)}: {exc.strerror or exc}"
            + ("; is another appliance running there?" if exc.errno == errno.EADDRINUSE else "")
        ) from None
    sock.set_inheritable(True)
    return sock


def address(sock: socket.socket) -> str:
    """The URL a client on this machine uses: http://host:port, brackets around IPv6."""
    host, port = sock.getsockname()[:2]
    return f"http://{_hostport(host, port)}"


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
