"""What went wrong with the store, in one line an operator can act on. Built from the store's
error code and HTTP status only: a message never carries a credential, a signature or a
request the store echoed back."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

NOT_FOUND = frozenset({"404", "NoSuchBucket", "NotFound"})
DENIED = frozenset(
    {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
)
MOVED = frozenset({"301", "PermanentRedirect", "AuthorizationHeaderMalformed"})


class S3StorageError(Exception):
    """The store refused or could not be reached; the message names the bucket and what to
    check, never a credential."""


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "") or "")


def status_of(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def start_problem(exc: Exception, store: str) -> S3StorageError:
    """Why checking the bucket at start failed, for the start error."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code in NOT_FOUND:
            return S3StorageError(
                f"{store} does not exist: create it, or check settings.bucket, "
                "settings.region and settings.endpoint_url"
            )
        if code in DENIED:
            return S3StorageError(
                f"{store} refused the credentials ({code}): check the access key (settings."
                "access_key_id and secret_access_key, or the ambient AWS credential chain) and "
                "that its policy allows s3:ListBucket, s3:GetObject, s3:PutObject and "
                "s3:DeleteObject on the bucket"
            )
        if code in MOVED:
            return S3StorageError(
                f"{store} is in another region ({code}): set settings.region to the bucket's"
            )
        return S3StorageError(f"{store} answered {status_of(exc)} {code}: {exc.operation_name}")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return S3StorageError(
            f"no AWS credentials for {store}: set settings.access_key_id and "
            "secret_access_key as secret references, or provide the ambient credential chain "
            "(AWS_* environment, shared files, a container or instance role)"
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return S3StorageError(
            f"cannot connect to {store}: check settings.endpoint_url (scheme, host and port) "
            "and that the store is reachable from here"
        )
    if isinstance(exc, ReadTimeoutError | TimeoutError):
        return S3StorageError(
            f"{store} did not answer in time: check settings.endpoint_url and "
            "settings.read_timeout_seconds"
        )
    if isinstance(exc, BotoCoreError):
        return S3StorageError(f"{store}: {type(exc).__name__}")
    return S3StorageError(f"{store}: {type(exc).__name__}")


def operation_problem(exc: ClientError, store: str, action: str) -> S3StorageError:
    """A request on a document failed, for the job's error and the log."""
    return S3StorageError(
        f"{action} in {store} failed: {status_of(exc)} {error_code(exc)}"
        + (" (check the key policy of settings.sse_kms_key_id)" if "KMS" in error_code(exc) else "")
    )
