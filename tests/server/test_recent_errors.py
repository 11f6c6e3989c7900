"""The ring of recent problems behind GET /diagnostics: warnings and above only, structured
fields only, bounded, newest first, and attached to the logger only while installed."""

from __future__ import annotations

import asyncio
import logging
import threading

from faxbot.server.recent_errors import RecentErrors


def _logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger


def test_keeps_warnings_and_above_with_their_structured_fields_only() -> None:
    logger = _logger("faxbot_test_ring_a")
    ring = RecentErrors(plugins=["phaxio"])
    logger.addHandler(ring)
    try:
        logger.info("fine", extra={"event": "ready"})
        logger.warning("refused +12025550143", extra={"event": "webhook_rejected", "plugin": "x"})
        try:
            raise TimeoutError("provider at +12025550143 did not answer")
        except TimeoutError:
            logger.getChild("phaxio").exception("send failed", extra={"event": "dispatch_error"})
        logger.error("free text fields are dropped", extra={"event": "a sentence, not a word"})
    finally:
        logger.removeHandler(ring)
    newest, error, warning = ring.recent()
    assert (warning.level, warning.event, warning.code, warning.plugin) == (
        "warning",
        "webhook_rejected",
        None,
        "x",
    )
    assert (error.level, error.event, error.code, error.plugin) == (
        "error",
        "dispatch_error",
        "TimeoutError",
        "phaxio",  # from the plugin's logger, faxbot_test_ring_a.phaxio
    )
    assert newest.event is None
    assert "+12025550143" not in repr(ring.recent())


def test_is_bounded_and_newest_first() -> None:
    logger = _logger("faxbot_test_ring_b")
    ring = RecentErrors(capacity=3)
    logger.addHandler(ring)
    try:
        for n in range(10):
            logger.warning("w", extra={"event": f"e{n}"})
    finally:
        logger.removeHandler(ring)
    assert [e.event for e in ring.recent()] == ["e9", "e8", "e7"]


def test_installed_only_for_the_block() -> None:
    logger = _logger("faxbot_test_ring_c")
    ring = RecentErrors()

    async def lifespan() -> None:
        async with ring.installed(logger):
            assert ring in logger.handlers
            logger.warning("during", extra={"event": "during"})
        logger.warning("after", extra={"event": "after"})

    asyncio.run(lifespan())
    assert ring not in logger.handlers
    assert [e.event for e in ring.recent()] == ["during"]


def test_threads_may_log_at_once() -> None:
    logger = _logger("faxbot_test_ring_d")
    ring = RecentErrors(capacity=50)
    logger.addHandler(ring)

    def burst() -> None:
        for _ in range(200):
            logger.warning("w", extra={"event": "burst"})

    threads = [threading.Thread(target=burst) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        logger.removeHandler(ring)
    assert len(ring.recent()) == 50
