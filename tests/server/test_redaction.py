"""The diagnostics redactor: the resolved secrets, anything shaped like a phone number and
API tokens are masked in every string; dates, versions, times and ids are left readable."""

from __future__ import annotations

import pytest
from faxbot.keys import new_key
from faxbot.server.redaction import NUMBER_MASK, SECRET_MASK, TOKEN_MASK, Redactor

SECRET = "pa55-w0rd-that-is-long"


@pytest.mark.parametrize(
    "text",
    [
        "+12025550143",
        "+1 202 555 0143",
        "+1 (202) 555-0143",
        "202-555-0143",
        "(202) 555-0143",
        "12025",
        "+44 20 7946 0958",
    ],
)
def test_a_phone_number_is_masked_however_it_is_written(text: str) -> None:
    assert Redactor().text(f"refused {text}.") == f"refused {NUMBER_MASK}."
    assert Redactor().text(f"to={text}") == f"to={NUMBER_MASK}"


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-10",  # an API key's expiry date
        "2026-12-02T04:31:43.123Z",
        "3.11.7",
        "2026.12.1",  # a calendar version
        "host-12345",  # a replica id
        "test-1733112000000-F-0123abcd",  # a provider sid
        "0123456789abcdef0123456789abcdef",  # a job id
        "sha256:0123456789abcdef",
        "1234",  # too short to be a number
    ],
)
def test_what_is_not_a_phone_number_is_left(text: str) -> None:
    assert Redactor().text(text) == text


def test_a_resolved_secret_is_masked_wherever_it_appears() -> None:
    redactor = Redactor([SECRET, "ab"])  # too short to mask: it would mask words
    assert redactor.text(f"https://user:{SECRET}@host/x") == f"https://user:{SECRET_MASK}@host/x"
    assert redactor.text(f"{SECRET}{SECRET}") == SECRET_MASK * 2
    assert redactor.text("about") == "about"


def test_a_secret_containing_another_is_masked_whole() -> None:
    assert Redactor(["long-secret", "long-secret-plus"]).text("long-secret-plus") == SECRET_MASK


def test_tokens_are_masked() -> None:
    token = new_key("k", ["fax:read"]).token
    assert Redactor().text(f"key {token} refused") == f"key {TOKEN_MASK} refused"
    assert Redactor().text("Authorization: Bearer abc.def-ghi_jkl") == (
        f"Authorization: {TOKEN_MASK}"
    )


def test_a_tree_is_redacted_keys_and_values() -> None:
    tree = {"+12025550143": [SECRET, {"n": "+12025550143", "count": 12025550143}], "ok": True}
    assert Redactor([SECRET]).tree(tree) == {
        NUMBER_MASK: [SECRET_MASK, {"n": NUMBER_MASK, "count": 12025550143}],
        "ok": True,
    }
