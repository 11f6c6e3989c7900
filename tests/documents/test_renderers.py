"""The render pool with real worker processes: texts drawn in a child, workers retired after
their quota of texts or past their memory bound and started again when texts need them, a
dead worker failing only its text, and nothing left running after stop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest
from faxbot.documents.pages import count_pages
from faxbot.documents.renderers import RenderersBusy, RenderFailed, TextRenderers, pool_size

LOG = logging.getLogger("tests.renderers")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def bytes_read(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def test_the_default_size_leaves_the_event_loop_a_cpu() -> None:
    assert pool_size(3) == 3
    assert 1 <= pool_size(0) <= 4


def test_texts_are_drawn_in_a_worker_that_retires_after_its_quota(tmp_path: Path) -> None:
    upload = tmp_path / "upload.part"
    upload.write_bytes(b"from a spilled file\n")

    async def scenario() -> tuple[list[int], list[list[int]], list[int]]:
        pool = TextRenderers(1, 4, LOG, renders_per_worker=2)
        await pool.start()
        pages, seen = [], []
        try:
            for source in (b"one\n", upload, b"three\fpages\fhere\n"):
                pages.append(count_pages(await pool.render(source, "letter")))
                seen.append(pool.pids)
        finally:
            await pool.stop()
        return pages, seen, [pid for pids in seen for pid in pids]

    pages, seen, pids = asyncio.run(scenario())
    assert pages == [1, 1, 3]
    assert len(seen[0]) == 1 and seen[1] == []  # retired after its second text
    assert len(seen[2]) == 1 and seen[2] != seen[0]  # a new one for the third
    assert not any(alive(pid) for pid in pids)


def test_a_worker_over_its_memory_bound_retires_after_the_text() -> None:
    async def scenario() -> list[list[int]]:
        pool = TextRenderers(1, 4, LOG, max_worker_rss=1)  # any worker is over one byte
        await pool.start()
        try:
            seen = []
            for _ in range(2):
                await pool.render(b"hello\n", "letter")
                seen.append(pool.pids)
            return seen
        finally:
            await pool.stop()

    assert asyncio.run(scenario()) == [[], []]


def test_a_killed_worker_fails_its_text_and_the_next_text_gets_a_new_one() -> None:
    async def scenario() -> tuple[int, int]:
        pool = TextRenderers(1, 4, LOG)
        await pool.start()
        try:
            await pool.render(b"start a worker\n", "letter")
            [first] = pool.pids
            long_text = "".join(f"line {n}\n" for n in range(20_000)).encode()
            already_read = bytes_read(first)
            drawing = asyncio.create_task(pool.render(long_text, "letter"))
            while bytes_read(first) < already_read + len(long_text):
                await asyncio.sleep(0.01)  # until the worker has the text: it is drawing
            os.kill(first, signal.SIGKILL)
            with pytest.raises(RenderFailed, match="send it again"):
                await drawing
            assert count_pages(await pool.render(b"after\n", "letter")) == 1
            [second] = pool.pids
            return first, second
        finally:
            await pool.stop()

    first, second = asyncio.run(scenario())
    assert first != second
    assert not alive(second)


def test_past_the_queue_a_text_is_refused_at_once() -> None:
    async def scenario() -> None:
        pool = TextRenderers(1, 0, LOG)
        await pool.start()
        try:
            long_text = "".join(f"line {n}\n" for n in range(20_000)).encode()
            drawing = asyncio.create_task(pool.render(long_text, "letter"))
            await asyncio.sleep(0)  # it starts the worker and waits for it
            with pytest.raises(RenderersBusy, match="render_queue"):
                await pool.render(b"short\n", "letter")
            assert count_pages(await drawing) > 300
        finally:
            await pool.stop()

    asyncio.run(scenario())


def test_a_stopped_pool_refuses_and_stop_leaves_no_process() -> None:
    async def scenario() -> list[int]:
        pool = TextRenderers(2, 4, LOG)
        await pool.start()
        await asyncio.gather(*(pool.render(b"x\n", "letter") for _ in range(2)))
        pids = pool.pids
        await pool.stop()
        with pytest.raises(RenderFailed, match="not running"):
            await pool.render(b"x\n", "letter")
        return pids

    pids = asyncio.run(scenario())
    assert pids and not any(alive(pid) for pid in pids)
