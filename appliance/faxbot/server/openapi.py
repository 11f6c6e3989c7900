"""What the route handlers declare for the OpenAPI spec beyond their types: the security
schemes, the error responses, and the multipart body of POST /fax (which the handler streams
itself, so Litestar cannot infer it). `faxbot codegen` turns handlers + these into the spec."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.enums import ParamType
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from faxbot.server.models import ErrorBody

API_VERSION = "3.0.0"
SECURITY: list[dict[str, list[str]]] = [{"ApiKey": []}, {"BearerToken": []}]
E164_PATTERN = r"^\+[1-9]\d{1,14}$"

_DESCRIPTIONS = {
    400: "Bad request: a missing or invalid field, number or cursor.",
    401: "No API key, or an invalid or expired one.",
    403: "The API key lacks the scope this operation needs.",
    404: "No such resource.",
    405: "The route does not take this method.",
    410: "The document was deleted under the appliance's retention settings.",
    413: "The document is larger than the upload limit.",
    415: "Not multipart/form-data, or a document that is neither PDF nor UTF-8 text.",
    422: "An unreadable PDF, too many pages, an Idempotency-Key reused for another fax, or a "
    "destination the policy refuses.",
    429: "Too many requests from this API key, or without a valid key from this address; "
    "Retry-After says how many seconds to wait.",
    503: "The appliance is starting or has no transport running.",
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """Error responses, all with the ErrorBody (`error`, `detail`, `code`, `details`,
    `request_id`)."""
    return {
        code: ResponseSpec(ErrorBody, description=_DESCRIPTIONS[code], generate_examples=False)
        for code in codes
    }


@dataclass
class SendFaxOperation(Operation):
    """POST /fax: the multipart body the handler streams, and the Idempotency-Key header it
    reads itself."""

    def __post_init__(self) -> None:
        form = Schema(
            type=OpenAPIType.OBJECT,
            required=["to", "file"],
            properties={
                "to": Schema(
                    type=OpenAPIType.STRING,
                    pattern=E164_PATTERN,
                    description="The recipient, an E.164 number such as +12025550143.",
                    examples=["+12025550143"],
                ),
                "file": Schema(
                    type=OpenAPIType.STRING,
                    format=OpenAPIFormat.BINARY,
                    description="The document: a PDF, or UTF-8 plain text that is "
                    "rendered to PDF. Judged by content, not by name or type.",
                ),
            },
        )
        self.parameters = [
            Parameter(
                name="Idempotency-Key",
                param_in=ParamType.HEADER,
                required=False,
                schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255),
                description="A key of your choosing (such as a UUID) that makes a retried "
                "POST return the job the first one created instead of sending again.",
            )
        ]
        self.request_body = RequestBody(
            required=True,
            content={"multipart/form-data": OpenAPIMediaType(schema=form)},
            description="The fax to send.",
        )


@dataclass
class PdfOperation(Operation):
    """GET /inbound/{id}/pdf: the answer is a binary PDF (the handler streams it), declared
    as `format: binary` so the SDKs read it as bytes, not text."""

    def __post_init__(self) -> None:
        if self.responses and "200" in self.responses:
            answer = self.responses["200"]
            if not isinstance(answer, Reference) and answer.content:
                for media in answer.content.values():
                    media.schema = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Faxbot",
        version=API_VERSION,
        description="Send and receive faxes. Every operation except the health checks needs "
        "an API key in `X-API-Key` or `Authorization: Bearer`. Every response carries an "
        "`X-Request-Id` header: the client's own `X-Request-Id` when it sent one of 1-128 "
        "characters of `[A-Za-z0-9._:-]`, else one the appliance made; an error body repeats "
        "it in `request_id`, and the appliance log has it on the request's line. An error "
        "body's `code` is one of ErrorCode; clients must accept codes they do not know.",
        path="/openapi",
        create_examples=False,
        use_handler_docstrings=False,
        components=Components(
            security_schemes={
                "ApiKey": SecurityScheme(
                    type="apiKey",
                    name="X-API-Key",
                    security_scheme_in="header",
                    description="An API token from `faxbot keys new`.",
                ),
                "BearerToken": SecurityScheme(
                    type="http", scheme="bearer", description="The same token as a bearer token."
                ),
            }
        ),
    )


__all__ = ["SECURITY", "PdfOperation", "SendFaxOperation", "errors", "openapi_config"]
