"""Which replica this process is, when several `faxbot serve` processes share one database.

The id names the owner of a job's lease and of an audit stream, so it must be stable for the
life of the process, distinct between processes, and safe in a file name and a log line. It
comes from `FAXBOT_REPLICA_ID` when the deployment sets one (a StatefulSet's pod name, a
compose service name), otherwise from the host name and the process id: two processes on one
host differ by pid, two pods by host name.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping

ENV = "FAXBOT_REPLICA_ID"
PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ReplicaIdError(ValueError):
    """FAXBOT_REPLICA_ID is set to something that cannot be a replica id."""


def replica_id(environ: Mapping[str, str] = os.environ) -> str:
    """This process's replica id: FAXBOT_REPLICA_ID if set (checked), else `<host>-<pid>`."""
    given = environ.get(ENV)
    if given is not None:
        if PATTERN.fullmatch(given) is None:
            raise ReplicaIdError(
                f"{ENV} must be 1 to 63 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit"
            )
        return given
    host = _UNSAFE.sub("-", socket.gethostname()).strip(".-_") or "host"
    suffix = f"-{os.getpid()}"
    return host[: 63 - len(suffix)] + suffix
