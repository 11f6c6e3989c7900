"""judge() decides by content: PDF header within the first 1024 bytes, else strict UTF-8 text,
else a refusal that says what the upload looks like and what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from faxbot.documents.kinds import (
    CHUNK_SIZE,
    HEAD_SIZE,
    DocumentError,
    DocumentKind,
    UnsupportedDocument,
    judge,
)

from tests.documents.samples import CYRILLIC, GREEK, LATIN, PNG, ZIP, pdf_bytes, random_bytes

ACCEPTED = "send a PDF or UTF-8 plain text"


def judged(tmp_path: Path, data: bytes, name: str = "upload") -> DocumentKind:
    path = tmp_path / name
    path.write_bytes(data)
    return judge(path)


def refusal(tmp_path: Path, data: bytes) -> str:
    with pytest.raises(UnsupportedDocument) as caught:
        judged(tmp_path, data)
    assert ACCEPTED in str(caught.value)
    return str(caught.value)


def test_a_pdf_is_a_pdf(tmp_path: Path) -> None:
    assert judged(tmp_path, pdf_bytes(1)) is DocumentKind.PDF


@pytest.mark.parametrize("leading", [1, 500, 1023])
def test_the_pdf_header_may_follow_leading_bytes(tmp_path: Path, leading: int) -> None:
    assert judged(tmp_path, b"\x00" * leading + pdf_bytes(1)) is DocumentKind.PDF


def test_a_pdf_header_after_the_first_1024_bytes_does_not_count(tmp_path: Path) -> None:
    assert "binary data" in refusal(tmp_path, b"\x00" * 1024 + pdf_bytes(1))


def test_the_name_is_not_looked_at(tmp_path: Path) -> None:
    assert judged(tmp_path, b"plain words\n", name="fax.pdf") is DocumentKind.TEXT
    assert judged(tmp_path, pdf_bytes(1), name="notes.txt") is DocumentKind.PDF
    assert "PNG image" in refusal(tmp_path, PNG)  # whatever a client would call it


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (PNG, "PNG image"),
        (ZIP, "ZIP archive"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG image"),
        (b"II*\x00\x08\x00\x00\x00", "TIFF image"),
        ("\ufeffhello".encode("utf-16-le"), "UTF-16"),
        (random_bytes(), "binary data"),
    ],
)
def test_other_formats_are_refused_by_what_they_look_like(
    tmp_path: Path, data: bytes, looks_like: str
) -> None:
    assert looks_like in refusal(tmp_path, data)


def test_utf8_text_in_several_scripts_is_text(tmp_path: Path) -> None:
    text = f"{LATIN}\t{GREEK}\r\n{CYRILLIC}\fnext page 漢字\n"
    assert judged(tmp_path, text.encode()) is DocumentKind.TEXT


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    assert judged(tmp_path, "\ufeffbonjour".encode()) is DocumentKind.TEXT


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf"], ids=["empty", "bom-only"])
def test_an_empty_document_is_an_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(DocumentError, match="the document is empty") as caught:
        judged(tmp_path, data)
    assert not isinstance(caught.value, UnsupportedDocument)


def test_a_nul_byte_makes_it_binary(tmp_path: Path) -> None:
    assert "NUL" in refusal(tmp_path, b"looks like text\x00 but is not\n")


@pytest.mark.parametrize("char", ["\x1b", "\x7f", "\x0b", "\x85"])
def test_other_control_characters_are_refused(tmp_path: Path, char: str) -> None:
    assert f"U+{ord(char):04X}" in refusal(tmp_path, f"text {char}[0m\n".encode())


def test_invalid_utf8_is_refused_at_its_offset(tmp_path: Path) -> None:
    assert "byte 0xE9 at offset 3 " in refusal(tmp_path, b"caf\xe9 au lait\n")


def test_invalid_utf8_far_into_the_file_is_found_at_its_offset(tmp_path: Path) -> None:
    at = HEAD_SIZE + CHUNK_SIZE * 2 + 17
    data = b"a" * at + b"\xff" + b"b" * 100
    assert f"byte 0xFF at offset {at} " in refusal(tmp_path, data)


def test_a_character_cut_off_at_the_end_is_refused(tmp_path: Path) -> None:
    data = b"x" * (HEAD_SIZE + 5) + "€".encode()[:2]
    assert f"byte 0xE2 at offset {HEAD_SIZE + 5} " in refusal(tmp_path, data)


@pytest.mark.parametrize("boundary", [HEAD_SIZE, HEAD_SIZE + CHUNK_SIZE])
@pytest.mark.parametrize("shift", [1, 2])
def test_a_character_split_across_reads_is_still_text(
    tmp_path: Path, boundary: int, shift: int
) -> None:
    euro = "€".encode()  # three bytes
    data = b"x" * (boundary - shift) + euro + b" end\n"
    assert judged(tmp_path, data) is DocumentKind.TEXT
    # and the same position reports the right offset when the character is broken
    broken = b"x" * (boundary - shift) + euro[:2] + b"!"
    assert f"at offset {boundary - shift} " in refusal(tmp_path, broken)
