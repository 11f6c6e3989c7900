"""Random identifiers: shape, uniqueness, and a forked child's own random stream."""

from __future__ import annotations

import os
import re
import threading
import warnings

from faxbot.ids import _IDS, new_id

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_ids_are_32_lowercase_hex_digits_and_unique() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert all(HEX32.fullmatch(one) for one in ids), [
        one for one in ids if not HEX32.fullmatch(one)
    ]
    assert len(set(ids)) == len(ids)


def test_ids_from_threads_are_unique() -> None:
    results: list[list[str]] = [[] for _ in range(8)]

    def make(out: list[str]) -> None:
        out.extend(new_id() for _ in range(2000))

    threads = [threading.Thread(target=make, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    ids = [one for out in results for one in out]
    assert len(ids) == 8 * 2000
    assert len(set(ids)) == len(ids)


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    count = 20
    new_id()
    while _IDS._offset >= len(_IDS._buffer):  # the parent forks holding unused random bytes,
        new_id()  # which the child must not hand out again
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12 warns about fork() in a process with threads (other tests' helpers);
        # the child only writes to a pipe and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            os.write(write_end, "".join(new_id() for _ in range(count)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        data = reader.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child = {data[i : i + 32] for i in range(0, len(data), 32)}
    parent = {new_id() for _ in range(count)}
    assert len(child) == count
    assert all(HEX32.fullmatch(one) for one in child)
    assert child.isdisjoint(parent)
