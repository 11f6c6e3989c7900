"""Storage encryption at rest: documents sealed as a stream of AES-256-GCM segments.

A stored document is a header followed by segments; each segment seals up to 64 KiB of the
document on its own, so a document of any size is encrypted and decrypted while it streams,
never held whole in memory. The layout (all integers big-endian):

    header   magic b"\\x89FXE" (4) | format version 1 (1) | key id (8) | salt (16)
             | nonce prefix (7)                                          = 36 bytes
    segment  AES-GCM(document key, nonce, plaintext, associated data)    = plaintext + 16
    nonce    nonce prefix (7) | segment number (4) | 1 if last else 0 (1) = 12 bytes

Every segment but the last holds exactly 64 KiB of the document; the last holds 0 to 64 KiB,
so an empty document is one empty last segment. The document key is derived from the storage
key and the header's random salt (HKDF-SHA256), so nonces never repeat across documents
under one storage key, however many there are. The associated data of every segment is the
header plus the document's name (its storage key), so an edited header, or a file copied over
another document's name, fails authentication; the segment number and the last flag in the
nonce make reordered, dropped, appended or truncated segments fail too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import os
import string
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterator, Sequence
from contextlib import aclosing

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from faxbot.plugins.contract import Storage

KEY_SIZE = 32
# A high first byte, as in PNG's signature, so that no text file and no PDF ("%PDF-") reads
# as encrypted, and a transfer that strips the 8th bit shows up as damage.
MAGIC = b"\x89FXE"
VERSION = 1
SEGMENT_SIZE = 64 * 1024

_KEY_ID_SIZE = 8
_SALT_SIZE = 16
_PREFIX_SIZE = 7  # with the 4-byte segment number and the last flag: AES-GCM's 12-byte nonce
_TAG_SIZE = 16
HEADER_SIZE = len(MAGIC) + 1 + _KEY_ID_SIZE + _SALT_SIZE + _PREFIX_SIZE
_SEALED_SEGMENT_SIZE = SEGMENT_SIZE + _TAG_SIZE
# Labels keep the key id and the document keys apart from any other use of the same secret.
_KEY_ID_LABEL = b"faxbot storage key id v1\x00"
_DOCUMENT_KEY_LABEL = b"faxbot storage document key v1"
_KEY_SHAPE = (
    "a storage key is 32 random bytes written as standard base64 (44 characters, e.g. from "
    "`openssl rand -base64 32`) or as 64 hex digits"
)


class EncryptionError(Exception):
    """Base of this module's errors; none of their messages holds key material or content."""


class InvalidKeyError(EncryptionError, ValueError):
    """A storage key's text (or bytes) is not a 32-byte key."""


class UnknownKeyError(EncryptionError):
    """A document was encrypted under a storage key that is not in the key ring."""

    def __init__(self, name: str, key_id: str, known: Sequence[str]) -> None:
        self.name = name
        self.key_id = key_id
        super().__init__(
            f"stored document {name!r} was encrypted with storage key id {key_id}, which is "
            f"not in the key ring (key ids {', '.join(known)}); if that key was rotated out, "
            "add it to the previous storage keys"
        )


class DamagedDocumentError(EncryptionError):
    """A stored document failed authentication: damaged, truncated, edited or misplaced."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"stored document {name!r} is refused: {reason}")


class NotEncryptedError(DamagedDocumentError):
    """A stored document is not in the encrypted format at all, e.g. one stored before
    encryption was turned on. A DamagedDocumentError, so a caller that does not look for it
    refuses the document rather than serving bytes nobody authenticated."""

    def __init__(self, name: str) -> None:
        super().__init__(
            name, "it is not in Faxbot's encrypted format (stored before encryption was on?)"
        )


def parse_key(text: str) -> bytes:
    """A storage key from its text: standard base64 (44 characters) or 64 hex digits,
    surrounding whitespace ignored. Errors say the expected shape, never any of the text."""
    text = text.strip()
    if len(text) == 2 * KEY_SIZE:
        if all(char in string.hexdigits for char in text):
            return bytes.fromhex(text)
        raise InvalidKeyError(f"{_KEY_SHAPE}; got 64 characters that are not all hex digits")
    if len(text) == 44:
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) == KEY_SIZE:
            return key
        # No exception chaining: binascii's messages may quote the input.
        raise InvalidKeyError(f"{_KEY_SHAPE}; got 44 characters that are not a base64 key")
    raise InvalidKeyError(f"{_KEY_SHAPE}; got {len(text)} characters")


def key_id(key: bytes) -> str:
    """A storage key's id, 16 hex digits: written in each document's header so that the key
    ring finds the key to decrypt it with, and safe to show (a hash, not the key)."""
    return hashlib.sha256(_KEY_ID_LABEL + key).digest()[:_KEY_ID_SIZE].hex()


def is_encrypted(head: bytes) -> bool:
    """Whether a stored file's first bytes (at least 4) start the encrypted format."""
    return head.startswith(MAGIC)


class KeyRing:
    """The storage keys: the current one encrypts, the previous ones still decrypt."""

    __slots__ = ("_keys",)

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        for key in (current, *previous):
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                size = len(key) if isinstance(key, bytes) else type(key).__name__
                raise InvalidKeyError(f"a storage key is {KEY_SIZE} bytes, got {size}")
        # Insertion order: the current key first, so it is the one `encrypt` picks.
        self._keys = {key_id(key): key for key in (current, *previous)}

    @property
    def current_id(self) -> str:
        """The id of the key that `encrypt` uses."""
        return next(iter(self._keys))

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id in the ring, the current one first."""
        return tuple(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self.key_ids!r})"

    async def encrypt(self, chunks: AsyncIterable[bytes], name: str) -> AsyncIterator[bytes]:
        """The document `name` (its storage key) sealed under the current key: the header,
        then one item per segment, whatever the sizes of the chunks read."""
        fresh = os.urandom(_SALT_SIZE + _PREFIX_SIZE)
        salt, prefix = fresh[:_SALT_SIZE], fresh[_SALT_SIZE:]
        header = MAGIC + bytes([VERSION]) + bytes.fromhex(self.current_id) + salt + prefix
        cipher = _document_cipher(self._keys[self.current_id], salt)
        associated_data = header + name.encode("utf-8")
        yield header
        number = 0
        async with aclosing(_regroup(chunks, itertools.repeat(SEGMENT_SIZE))) as segments:
            async for segment, last in segments:
                yield cipher.encrypt(_nonce(prefix, number, last), segment, associated_data)
                number += 1

    async def decrypt(self, chunks: AsyncIterable[bytes], name: str) -> AsyncIterator[bytes]:
        """The document `name` from what `encrypt` wrote for that name, segment by segment;
        each segment is authenticated before it is yielded. Raises NotEncryptedError before
        yielding anything when the file is not encrypted, UnknownKeyError when its key is not
        in the ring, DamagedDocumentError when any part fails (a truncated file only at the
        end, after the segments before the cut were yielded)."""
        sizes = itertools.chain([HEADER_SIZE], itertools.repeat(_SEALED_SEGMENT_SIZE))
        async with aclosing(_regroup(chunks, sizes)) as pieces:
            header, last = await anext(pieces)
            cipher, associated_data, prefix = self._open_header(header, last, name)
            number = 0
            async for segment, last in pieces:
                try:
                    plain = cipher.decrypt(_nonce(prefix, number, last), segment, associated_data)
                except InvalidTag:
                    # A missing last segment shows up here too: the segment before the cut
                    # was sealed as "not last", so it fails when read as the last one.
                    raise DamagedDocumentError(
                        name,
                        f"segment {number} failed authentication (the file is damaged, was "
                        "edited or cut short, or belongs to another document)",
                    ) from None
                yield plain
                number += 1

    def _open_header(self, header: bytes, last: bool, name: str) -> tuple[AESGCM, bytes, bytes]:
        """The cipher, associated data and nonce prefix for a document from its header."""
        if not header or not MAGIC.startswith(header[: len(MAGIC)]):
            raise NotEncryptedError(name)
        if len(header) < HEADER_SIZE:
            raise DamagedDocumentError(name, "it is cut short within its header")
        if last:
            raise DamagedDocumentError(name, "it ends after its header, with no segments")
        if header[len(MAGIC)] != VERSION:
            raise DamagedDocumentError(
                name, f"format version {header[len(MAGIC)]} is not one this Faxbot reads"
            )
        start = len(MAGIC) + 1
        found_id = header[start : start + _KEY_ID_SIZE].hex()
        salt = header[start + _KEY_ID_SIZE : start + _KEY_ID_SIZE + _SALT_SIZE]
        prefix = header[HEADER_SIZE - _PREFIX_SIZE :]
        key = self._keys.get(found_id)
        if key is None:
            raise UnknownKeyError(name, found_id, self.key_ids)
        return _document_cipher(key, salt), header + name.encode("utf-8"), prefix


def _document_cipher(key: bytes, salt: bytes) -> AESGCM:
    # A key per document: random 7-byte nonce prefixes alone would risk a repeated nonce
    # (fatal for GCM) after some tens of millions of documents under one storage key.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=_DOCUMENT_KEY_LABEL)
    return AESGCM(hkdf.derive(key))


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    # to_bytes raises OverflowError past 2**32 segments (256 TiB) rather than reuse a nonce.
    return prefix + number.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


async def _regroup(
    chunks: AsyncIterable[bytes], sizes: Iterator[int]
) -> AsyncGenerator[tuple[bytes, bool], None]:
    """Cut a stream of chunks of any sizes into pieces of the given sizes, flagging the last
    one (shorter, possibly empty). A full piece is only given out once a further byte has
    arrived, since whether it is the last one decides how it is sealed."""
    size = next(sizes)
    pending = bytearray()
    async for chunk in chunks:
        view = memoryview(chunk)
        while view:
            if len(pending) == size:
                yield bytes(pending), False
                pending.clear()
                size = next(sizes)
            take = size - len(pending)
            pending += view[:take]
            view = view[take:]
    yield bytes(pending), True


__all__ = [
    "HEADER_SIZE",
    "MAGIC",
    "SEGMENT_SIZE",
    "DamagedDocumentError",
    "EncryptionError",
    "InvalidKeyError",
    "KeyRing",
    "NotEncryptedError",
    "UnknownKeyError",
    "is_encrypted",
    "key_id",
    "parse_key",
]


class EncryptedStorage:
    """Any storage plugin, with documents encrypted before they reach it and decrypted as they
    are read back: the plugin (local files, an object store) only ever holds ciphertext."""

    def __init__(self, storage: Storage, keys: KeyRing) -> None:
        self._storage = storage
        self._keys = keys

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        return await self._storage.put(key, self._keys.encrypt(chunks, key))

    async def get(self, key: str) -> AsyncIterator[bytes]:
        return self._keys.decrypt(await self._storage.get(key), key)

    async def delete(self, key: str) -> None:
        await self._storage.delete(key)
