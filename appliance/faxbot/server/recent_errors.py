"""The last problems the appliance logged (WARNING and above), kept in memory for
GET /diagnostics: a bounded ring fed by a logging handler on the appliance's logger,
installed when the app starts and removed when it stops.

Only structured fields are kept (when, level, event, code, plugin): never the message or
the other fields of the line, which may quote a number, a provider's answer or a path."""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

CAPACITY = 50
MAX_FIELD_CHARS = 64
_WORD = re.compile(r"^[A-Za-z0-9_.:-]+$")  # events, codes and plugin ids are words


class Logged(NamedTuple):
    at: float  # epoch seconds
    level: str  # warning | error | critical
    event: str | None  # the line's `event` field, e.g. send_outcome_unknown
    code: str | None  # the line's `code`, else the exception's class name
    plugin: str | None  # the plugin the line is about, when it names one


class RecentErrors(logging.Handler):
    """A logging handler that remembers the last `capacity` problems; thread-safe (plugins
    and the database writer log from worker threads)."""

    def __init__(self, plugins: Collection[str] = (), capacity: int = CAPACITY) -> None:
        super().__init__(logging.WARNING)
        self._plugins = frozenset(plugins)
        self._ring: deque[Logged] = deque(maxlen=capacity)
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        exc_type = record.exc_info[0] if record.exc_info else None
        code = _word(getattr(record, "code", None))
        entry = Logged(
            at=record.created,
            level=record.levelname.lower(),
            event=_word(getattr(record, "event", None)),
            code=code or (exc_type.__name__ if exc_type is not None else None),
            plugin=_word(getattr(record, "plugin", None)) or self._plugin_of(record.name),
        )
        with self._guard:
            self._ring.append(entry)

    def recent(self) -> list[Logged]:
        """Newest first."""
        with self._guard:
            return list(reversed(self._ring))

    def _plugin_of(self, logger_name: str) -> str | None:
        """Plugins log through `faxbot.<plugin id>`, the logger the host gives them."""
        parts = logger_name.split(".")
        return parts[1] if len(parts) > 1 and parts[1] in self._plugins else None

    @asynccontextmanager
    async def installed(self, logger: logging.Logger) -> AsyncIterator[None]:
        """Attached to `logger` for the block (an app lifespan): what its children log
        reaches it too."""
        logger.addHandler(self)
        try:
            yield
        finally:
            logger.removeHandler(self)


def _word(value: Any) -> str | None:
    """`value` when it is a short word, as structured fields are; anything else is dropped
    (a field that holds free text is not kept)."""
    if isinstance(value, str) and len(value) <= MAX_FIELD_CHARS and _WORD.match(value):
        return value
    return None
