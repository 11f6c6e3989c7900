"""The s3 plugin's settings, read once into a typed value, and the checks its JSON Schema
cannot express."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

from faxbot.plugins.contract import SettingProblem

MIB = 1024 * 1024
CREDENTIALS = ("access_key_id", "secret_access_key", "session_token")
ServerSideEncryption = Literal["aws:kms", "AES256"]


class Encryption(TypedDict, total=False):
    """The server-side encryption arguments of PutObject and CreateMultipartUpload."""

    ServerSideEncryption: ServerSideEncryption
    SSEKMSKeyId: str


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = ""
    session_token: str | None = None

    def __repr__(self) -> str:  # never shown, whoever prints the settings
        return "Credentials(***)"


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str
    region: str
    endpoint_url: str | None
    addressing_style: str
    sse: ServerSideEncryption | None
    sse_kms_key_id: str | None
    credentials: Credentials | None  # None: the ambient AWS credential chain
    part_bytes: int
    connect_timeout: float
    read_timeout: float

    @property
    def store(self) -> str:
        """The store and bucket in words, for errors and health: never a credential."""
        where = self.endpoint_url or f"AWS S3 ({self.region})"
        return f"bucket {self.bucket!r} at {where}"

    def encryption(self) -> Encryption:
        """What every upload sends, so that S3 encrypts the object with the configured key."""
        if self.sse is None:
            return {}
        if self.sse_kms_key_id is None:
            return {"ServerSideEncryption": self.sse}
        return {"ServerSideEncryption": self.sse, "SSEKMSKeyId": self.sse_kms_key_id}


def read_settings(settings: Mapping[str, Any]) -> S3Settings:
    """Settings as the appliance passes them to `start`: defaults applied, secret references
    resolved, checked by the schema and by `settings_problems` at compile time."""
    key_id = settings.get("access_key_id")
    credentials = None
    if key_id is not None:
        credentials = Credentials(
            access_key_id=str(key_id),
            secret_access_key=str(settings.get("secret_access_key") or ""),
            session_token=settings.get("session_token"),
        )
    prefix = str(settings.get("prefix", ""))
    endpoint = settings.get("endpoint_url")
    return S3Settings(
        bucket=str(settings["bucket"]),
        prefix=prefix,
        region=str(settings["region"]),
        endpoint_url=str(endpoint).rstrip("/") if endpoint else None,
        addressing_style=str(settings.get("addressing_style", "auto")),
        sse=cast("ServerSideEncryption | None", settings.get("sse")),
        sse_kms_key_id=settings.get("sse_kms_key_id"),
        credentials=credentials,
        part_bytes=int(settings["part_size_mib"]) * MIB,
        connect_timeout=float(settings["connect_timeout_seconds"]),
        read_timeout=float(settings["read_timeout_seconds"]),
    )


def settings_problems(settings: Mapping[str, Any]) -> list[SettingProblem]:
    """Credentials come as a pair (or with a session token, as three); a KMS key id needs
    SSE-KMS."""
    problems: list[SettingProblem] = []
    given = {name for name in CREDENTIALS if settings.get(name) is not None}
    if given and not {"access_key_id", "secret_access_key"} <= given:
        missing = sorted({"access_key_id", "secret_access_key"} - given)
        problems.append(
            SettingProblem(
                (missing[0],),
                f"{' and '.join(missing)} must be set too: give access_key_id and "
                "secret_access_key together, or neither for the ambient AWS credential chain",
            )
        )
    if settings.get("sse_kms_key_id") is not None and settings.get("sse") != "aws:kms":
        problems.append(
            SettingProblem(
                ("sse_kms_key_id",), "a KMS key id needs sse: aws:kms (it would be ignored)"
            )
        )
    return problems
