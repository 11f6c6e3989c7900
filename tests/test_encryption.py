"""Storage encryption: round trips under any chunking, and every kind of damage refused."""

from __future__ import annotations

import asyncio
import base64
import itertools
import random
import re
import traceback
from collections.abc import AsyncIterator, Sequence

import pytest
from faxbot.encryption import (
    HEADER_SIZE,
    SEGMENT_SIZE,
    DamagedDocumentError,
    InvalidKeyError,
    KeyRing,
    NotEncryptedError,
    UnknownKeyError,
    is_encrypted,
    key_id,
    parse_key,
)
from hypothesis import given, settings
from hypothesis import strategies as st

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
NAME = "0f3c9a.pdf"
TAG = 16
SEALED = SEGMENT_SIZE + TAG
# A document a reader would recognise, so that any leak of it into the file is easy to spot.
RECORD = b"PATIENT Jane Example, DOB 1970-01-01, diagnosis: confidential. "

# Deterministic and bounded: CI runs the same examples every time, in well under a second each.
examples = settings(max_examples=40, derandomize=True, database=None, deadline=None)
interesting_sizes = st.sampled_from(
    [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 7]
)
chunk_sizes = st.lists(
    st.sampled_from([0, 1, 2, TAG, HEADER_SIZE, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEALED + 1])
    | st.integers(0, 2 * SEALED),
    min_size=1,
    max_size=8,
)


def cut(data: bytes, sizes: Sequence[int]) -> list[bytes]:
    """`data` as chunks of the given sizes, repeated; empty chunks kept, the tail in one."""
    chunks: list[bytes] = []
    start = 0
    for size in itertools.islice(itertools.cycle(sizes), 200):
        chunks.append(data[start : start + size])
        start += size
    return [*chunks, data[start:]]


async def stream(chunks: Sequence[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def collect(items: AsyncIterator[bytes]) -> bytes:
    return b"".join([item async for item in items])


def encrypt(ring: KeyRing, document: bytes, name: str = NAME, sizes: Sequence[int] = ()) -> bytes:
    chunks = cut(document, sizes) if sizes else [document]
    return asyncio.run(collect(ring.encrypt(stream(chunks), name)))


def decrypt(ring: KeyRing, stored: bytes, name: str = NAME, sizes: Sequence[int] = ()) -> bytes:
    chunks = cut(stored, sizes) if sizes else [stored]
    return asyncio.run(collect(ring.decrypt(stream(chunks), name)))


def document(size: int) -> bytes:
    return (RECORD * (size // len(RECORD) + 1))[:size]


def stored_size(size: int) -> int:
    segments = max(1, -(-size // SEGMENT_SIZE))
    return HEADER_SIZE + size + segments * TAG


@examples
@given(
    size=interesting_sizes,
    seed=st.integers(0, 2**32),
    write_sizes=chunk_sizes,
    read_sizes=chunk_sizes,
)
def test_round_trip_for_any_size_and_any_chunking(
    size: int, seed: int, write_sizes: list[int], read_sizes: list[int]
) -> None:
    original = random.Random(seed).randbytes(size)
    ring = KeyRing(KEY_A)

    stored = encrypt(ring, original, sizes=write_sizes)

    # The length shows the segments were cut from the document, not from the chunks given.
    assert len(stored) == stored_size(size)
    assert decrypt(ring, stored, sizes=read_sizes) == original


def test_an_empty_document_is_one_empty_last_segment() -> None:
    ring = KeyRing(KEY_A)
    stored = encrypt(ring, b"", sizes=[0, 0])
    assert len(stored) == HEADER_SIZE + TAG
    assert decrypt(ring, stored) == b""


def test_the_stored_file_does_not_contain_the_document() -> None:
    stored = encrypt(KeyRing(KEY_A), document(3 * SEGMENT_SIZE))
    assert b"Jane Example" not in stored
    assert b"PATIENT" not in stored


def test_two_encryptions_of_one_document_differ() -> None:
    ring = KeyRing(KEY_A)
    first, second = encrypt(ring, document(1000)), encrypt(ring, document(1000))
    assert first[:HEADER_SIZE] != second[:HEADER_SIZE]
    assert first[HEADER_SIZE:] != second[HEADER_SIZE:]
    assert decrypt(ring, first) == decrypt(ring, second) == document(1000)


def test_every_flipped_bit_of_a_small_file_is_refused() -> None:
    ring = KeyRing(KEY_A)
    stored = encrypt(ring, document(40))
    key_id_bytes = range(5, 13)

    async def refusals() -> list[type[Exception]]:
        errors: list[type[Exception]] = []
        for position, bit in itertools.product(range(len(stored)), range(8)):
            damaged = bytearray(stored)
            damaged[position] ^= 1 << bit
            try:
                await collect(ring.decrypt(stream([bytes(damaged)]), NAME))
            except (DamagedDocumentError, UnknownKeyError) as error:
                expected = UnknownKeyError if position in key_id_bytes else DamagedDocumentError
                assert isinstance(error, expected), (position, bit, error)
                errors.append(type(error))
        return errors

    assert len(asyncio.run(refusals())) == 8 * len(stored)


@examples
@given(data=st.data())
def test_a_flipped_bit_anywhere_in_a_long_file_is_refused(data: st.DataObject) -> None:
    ring = KeyRing(KEY_A)
    stored = bytearray(encrypt(ring, document(2 * SEGMENT_SIZE + 100)))
    # Half the draws near a segment's edges (its first bytes, its tag), half anywhere.
    edges = [HEADER_SIZE + n * SEALED + offset for n in range(3) for offset in (0, 1, -TAG, -1)]
    position = data.draw(
        st.sampled_from([edge for edge in edges if edge < len(stored)] + [len(stored) - 1])
        | st.integers(HEADER_SIZE, len(stored) - 1)
    )
    stored[position] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(DamagedDocumentError, match="failed authentication"):
        decrypt(ring, bytes(stored))


@pytest.mark.parametrize("size", [2 * SEGMENT_SIZE, 2 * SEGMENT_SIZE + 10])
def test_truncation_anywhere_is_refused(size: int) -> None:
    ring = KeyRing(KEY_A)
    stored = encrypt(ring, document(size))
    boundaries = [
        HEADER_SIZE + n * SEALED for n in range(3) if HEADER_SIZE + n * SEALED < len(stored)
    ]
    middles = [
        1,
        4,
        HEADER_SIZE // 2,
        HEADER_SIZE + SEALED // 2,
        len(stored) - TAG,
        len(stored) - 1,
    ]
    for length in [*boundaries, *middles]:
        with pytest.raises(DamagedDocumentError, match=re.escape(NAME)):
            decrypt(ring, stored[:length])


def test_an_empty_stored_file_is_not_an_encrypted_document() -> None:
    with pytest.raises(NotEncryptedError):
        decrypt(KeyRing(KEY_A), b"")


def test_reordered_dropped_or_repeated_segments_are_refused() -> None:
    ring = KeyRing(KEY_A)
    stored = encrypt(ring, document(3 * SEGMENT_SIZE + 5))
    header = stored[:HEADER_SIZE]
    segments = [stored[start : start + SEALED] for start in range(HEADER_SIZE, len(stored), SEALED)]
    assert len(segments) == 4
    first, second, third, last = segments
    for body in [
        [second, first, third, last],
        [first, second, last, third],
        [first, third, last],
        [first, second, third],
        [first, first, second, third, last],
        [first, second, third, last, last],
    ]:
        with pytest.raises(DamagedDocumentError, match="failed authentication"):
            decrypt(ring, header + b"".join(body))


@pytest.mark.parametrize("size", [10, SEGMENT_SIZE])
def test_trailing_bytes_are_refused(size: int) -> None:
    ring = KeyRing(KEY_A)
    stored = encrypt(ring, document(size))
    for garbage in [b"\x00", b"x" * TAG, stored[HEADER_SIZE:]]:
        with pytest.raises(DamagedDocumentError, match="failed authentication"):
            decrypt(ring, stored + garbage)


def test_a_file_under_another_name_or_with_another_header_is_refused() -> None:
    ring = KeyRing(KEY_A)
    stored = encrypt(ring, document(100), name="job-1.pdf")
    other = encrypt(ring, document(100), name="job-2.pdf")

    with pytest.raises(DamagedDocumentError, match=r"job-2\.pdf") as refused:
        decrypt(ring, stored, name="job-2.pdf")
    assert "PATIENT" not in str(refused.value)
    assert refused.value.name == "job-2.pdf"
    with pytest.raises(DamagedDocumentError):
        decrypt(ring, other[:HEADER_SIZE] + stored[HEADER_SIZE:], name="job-1.pdf")


def test_a_previous_key_still_decrypts_and_the_current_one_encrypts() -> None:
    stored_under_a = encrypt(KeyRing(KEY_A), document(1000))
    rotated = KeyRing(KEY_B, previous=[KEY_A])

    assert decrypt(rotated, stored_under_a) == document(1000)
    assert rotated.current_id == key_id(KEY_B)
    assert rotated.key_ids == (key_id(KEY_B), key_id(KEY_A))
    stored_under_b = encrypt(rotated, document(1000))
    assert decrypt(KeyRing(KEY_B), stored_under_b) == document(1000)
    with pytest.raises(UnknownKeyError):
        decrypt(KeyRing(KEY_A), stored_under_b)


def test_a_key_missing_from_the_ring_is_named_by_its_id_only() -> None:
    stored = encrypt(KeyRing(KEY_A), document(1000))
    with pytest.raises(UnknownKeyError) as unknown:
        decrypt(KeyRing(KEY_B), stored)

    assert unknown.value.key_id == key_id(KEY_A)
    message = str(unknown.value)
    assert key_id(KEY_A) in message
    assert "previous" in message
    assert NAME in message
    for key in (KEY_A, KEY_B):
        assert key.hex() not in message
        assert base64.b64encode(key).decode() not in message


def test_a_plaintext_document_is_recognised_before_anything_is_returned() -> None:
    pdf = b"%PDF-1.4\n" + document(200_000)

    async def first_item() -> bytes:
        return await anext(KeyRing(KEY_A).decrypt(stream(cut(pdf, [1000])), "old.pdf"))

    with pytest.raises(NotEncryptedError, match=r"old\.pdf.*not in Faxbot's encrypted format"):
        asyncio.run(first_item())
    # Not a separate family: a caller that only refuses damaged files refuses these too.
    assert issubclass(NotEncryptedError, DamagedDocumentError)
    assert not is_encrypted(pdf[:8])
    assert is_encrypted(encrypt(KeyRing(KEY_A), b"")[:8])


def test_a_format_version_this_faxbot_does_not_know_is_refused() -> None:
    ring = KeyRing(KEY_A)
    stored = bytearray(encrypt(ring, document(10)))
    stored[4] = 2
    with pytest.raises(DamagedDocumentError, match="format version 2"):
        decrypt(ring, bytes(stored))


@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
def test_a_long_document_streams_a_segment_at_a_time(direction: str) -> None:
    ring = KeyRing(KEY_A)
    original = document(16 * SEGMENT_SIZE)
    source = original if direction == "encrypt" else encrypt(ring, original)
    read = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal read
        for chunk in cut(source, [1024]):
            read += len(chunk)
            yield chunk

    async def read_when_the_first_segment_is_out() -> int:
        items = (
            ring.encrypt(counted(), NAME)
            if direction == "encrypt"
            else ring.decrypt(counted(), NAME)
        )
        async for item in items:
            if len(item) > HEADER_SIZE:
                await items.aclose()  # type: ignore[attr-defined]
                return read
        raise AssertionError("no segment came out")

    assert asyncio.run(read_when_the_first_segment_is_out()) <= HEADER_SIZE + SEALED + 1024


@pytest.mark.parametrize(
    "text", [KEY_A.hex(), KEY_A.hex().upper(), base64.b64encode(KEY_A).decode()]
)
def test_a_key_is_read_from_base64_or_hex(text: str) -> None:
    assert parse_key(f"  {text}\n") == KEY_A


KEY_TEXT = base64.b64encode(KEY_B).decode()


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("", 0),
        (KEY_TEXT[:-1], 43),
        (KEY_TEXT + "A", 45),
        (KEY_TEXT[:-2] + "!=", 44),
        (base64.urlsafe_b64encode(b"\xfb" * 32).decode(), 44),
        (base64.b64encode(KEY_B + b"x").decode()[:44], 44),
        (KEY_B.hex()[:-1], 63),
        (KEY_B.hex()[:-1] + "g", 64),
        (base64.b64encode(KEY_B + KEY_B[:16]).decode(), 64),
        ("${env:FAXBOT_STORAGE_KEY}", 25),
    ],
)
def test_a_bad_key_text_is_refused_without_showing_it(text: str, length: int) -> None:
    with pytest.raises(InvalidKeyError, match="base64") as refused:
        parse_key(text)

    message = "".join(traceback.format_exception(refused.value))
    assert f"got {length} characters" in message
    for start in range(len(text) - 5):
        assert text[start : start + 6] not in message, text[start : start + 6]


def test_a_key_ring_takes_only_32_byte_keys() -> None:
    with pytest.raises(InvalidKeyError, match="32 bytes, got 16"):
        KeyRing(KEY_A[:16])
    with pytest.raises(InvalidKeyError, match="32 bytes, got int"):
        KeyRing(KEY_A, previous=KEY_B)  # a key where a list of keys belongs


def test_key_ids_are_stable_hex_and_the_ring_shows_only_them() -> None:
    ring = KeyRing(KEY_A, previous=[KEY_B])
    assert key_id(KEY_A) == key_id(bytes(KEY_A))
    assert len(key_id(KEY_A)) == 16
    assert int(key_id(KEY_A), 16) >= 0
    assert key_id(KEY_A) != key_id(KEY_B)
    shown = repr(ring)
    assert key_id(KEY_A) in shown
    for key in (KEY_A, KEY_B):
        for text in (key.hex(), base64.b64encode(key).decode(), repr(key), repr(key)[2:10]):
            assert text not in shown
