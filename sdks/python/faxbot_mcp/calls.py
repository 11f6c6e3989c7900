"""Calling a tool: its arguments checked against the manifest's schema, the appliance called
through the SDK, and the answer made a tool result (structured content with a one-line
summary and the JSON as text), or a tool error (isError) whose text says what to do."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import attrs
import mcp_types as types
from faxbot_client import ConnectionFailed, Faxbot, FaxbotError
from jsonschema import Draft202012Validator

from faxbot_mcp.appliance import Appliance
from faxbot_mcp.documents import (
    ToolError,
    check_encoded_size,
    confined_file,
    decoded_document,
    save_target,
)
from faxbot_mcp.manifest import Manifest, ToolSpec, Transport

DOCUMENT_INPUTS = ("text", "path", "content_base64")
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Documents:
    directories: tuple[Path, ...] = ()  # where `path` may point (stdio)
    save_dir: Path | None = None  # where `save_as` may write (stdio)
    max_bytes: int | None = None  # a lower document limit than the manifest's (--document-limit)

    def limit(self, tool: ToolSpec) -> int | None:
        """The most bytes a document of `tool` may hold: the manifest's limit (the appliance's
        default), or the server's lower one."""
        if tool.document_max_bytes is None:
            return None
        return min(tool.document_max_bytes, self.max_bytes or tool.document_max_bytes)


def wire(value: Any) -> Any:
    """A model of the SDK as the appliance's JSON: times as it writes them (UTC, milliseconds,
    `Z`), so that both servers return the same bytes for the same answer."""
    if isinstance(value, datetime):
        at = value.astimezone(UTC).isoformat(timespec="milliseconds")
        return at.replace("+00:00", "Z")
    if isinstance(value, list):
        return [wire(item) for item in value]
    if attrs.has(type(value)):
        found = value.to_dict()
        for field in attrs.fields(type(value)):
            if field.name in found:
                found[field.name] = wire(getattr(value, field.name))
        return found
    return value


def summary(template: str, content: Mapping[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "count":
            return str(len(content.get("items", [])))
        value = content.get(name)
        if value is None:
            return "none"
        return value if isinstance(value, str) else json.dumps(value)

    return _FIELD.sub(one, template)


def result(
    tool: ToolSpec, content: dict[str, Any], extra: Sequence[types.ContentBlock] = ()
) -> types.CallToolResult:
    return types.CallToolResult(
        content=[
            types.TextContent(text=summary(tool.summary, content)),
            types.TextContent(text=json.dumps(content, ensure_ascii=False)),
            *extra,
        ],
        structured_content=content,
    )


def tool_error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def failure(tool: str, error: FaxbotError, hints: Mapping[str, str]) -> str:
    """The text of a tool error for a failed call of the appliance."""
    if isinstance(error, ConnectionFailed) or error.status is None:
        return f"{tool} failed: the appliance did not answer. {hints['unreachable']}"
    key = "5xx" if error.status >= 500 else str(error.status)
    hint = hints.get(key, hints["400"])
    code = error.code or "none"
    return f"{tool} failed: {error.message} (HTTP {error.status}, code {code}). {hint}"


def check_arguments(
    tool: ToolSpec, arguments: Mapping[str, Any], transport: Transport, limit: int | None
) -> None:
    """ToolError unless `arguments` fit the tool's input schema as listed on `transport`."""
    if transport == "http":
        local = sorted(name for name in tool.stdio_only if name in arguments)
        if local:
            raise ToolError(
                f"{', '.join(local)} is offered over stdio only (a file on the server's "
                "machine); over HTTP send the document as text or content_base64"
            )
    if tool.name == "send_fax":
        given = [name for name in DOCUMENT_INPUTS if name in arguments]
        if len(given) != 1:
            raise ToolError(
                "give exactly one of text, path and content_base64 "
                f"(given: {', '.join(given) or 'none'})"
            )
        encoded = arguments.get("content_base64")
        if isinstance(encoded, str) and limit is not None:
            check_encoded_size(encoded, limit)
    validator = Draft202012Validator(tool.input_schema(transport))
    errors = sorted(validator.iter_errors(dict(arguments)), key=lambda e: list(e.path))
    if errors:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.path) or 'arguments'}: {e.message}" for e in errors
        )
        raise ToolError(f"invalid arguments: {problems}")


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ToolError(f"{value!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise ToolError(f"{value!r} has no time zone; add Z or an offset")
    return moment


Call = Callable[[Faxbot], Any]


def sdk_call(tool: ToolSpec, arguments: Mapping[str, Any], documents: Documents) -> Call:
    """What to ask the SDK for, as a function of a client (run in a worker thread)."""
    name = tool.name
    if name == "send_fax":
        limit = documents.limit(tool) or 0
        document: bytes | Path
        if "text" in arguments:
            document = str(arguments["text"]).encode("utf-8")
        elif "path" in arguments:
            document = confined_file(arguments["path"], documents.directories, limit)
        else:
            document = decoded_document(arguments["content_base64"], limit)
        return lambda c: c.send_fax(
            arguments["to"], document, idempotency_key=arguments.get("idempotency_key")
        )
    if name == "get_fax_status":
        return lambda c: c.get_fax_status(arguments["job_id"])
    if name == "list_faxes":
        return lambda c: c.list_faxes_page(
            arguments.get("limit", 50),
            arguments.get("cursor"),
            status=arguments.get("status"),
            to=arguments.get("to"),
            created_since=_time(arguments.get("created_since")),
            created_until=_time(arguments.get("created_until")),
        )
    if name == "list_inbound":
        return lambda c: c.list_inbound_page(
            arguments.get("limit", 50),
            arguments.get("cursor"),
            to=arguments.get("to"),
            from_=arguments.get("from"),
            received_since=_time(arguments.get("received_since")),
            received_until=_time(arguments.get("received_until")),
        )
    if name == "get_inbound":
        return lambda c: c.get_inbound(arguments["id"])
    raise ToolError(f"{name} is not served by this version of faxbot-mcp")


Blocks = list[types.ContentBlock]


def inbound_pdf(
    client: Faxbot,
    tool: ToolSpec,
    arguments: Mapping[str, Any],
    transport: Transport,
    documents: Documents,
) -> tuple[dict[str, Any], Blocks]:
    """get_inbound_pdf: the PDF saved under `save_as` (stdio), else embedded in the result as
    a resource when it is within the manifest's bound; a ToolError past the bound."""
    fax_id = arguments["id"]
    described = {"id": fax_id, "content_type": "application/pdf"}
    if "save_as" in arguments:
        target = save_target(arguments["save_as"], documents.save_dir)
        if target.exists():
            raise ToolError(f"save_as: {target} already exists; choose another name")
        size = client.download_inbound_pdf(fax_id, target)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        saved = {"size_bytes": size, "sha256": digest, "embedded": False}
        return {**described, **saved, "saved_to": str(target)}, []
    pdf = client.get_inbound_pdf(fax_id)
    bound = tool.embed_max_bytes or 0
    if len(pdf) > bound:
        instead = "save it with save_as, or download" if transport == "stdio" else "download"
        raise ToolError(
            f"the PDF of {fax_id} is {len(pdf)} bytes, over the {bound}-byte bound for a "
            f"result: {instead} GET /inbound/{fax_id}/pdf with your API key"
        )
    embedded = types.EmbeddedResource(
        resource=types.BlobResourceContents(
            uri=f"faxbot://inbound/{fax_id}/pdf",
            mime_type="application/pdf",
            blob=base64.b64encode(pdf).decode("ascii"),
        )
    )
    digest = hashlib.sha256(pdf).hexdigest()
    found = {"size_bytes": len(pdf), "sha256": digest, "embedded": True, "saved_to": None}
    return {**described, **found}, [embedded]


async def call_tool(
    manifest: Manifest,
    appliance: Appliance,
    token: str,
    visible: Sequence[ToolSpec],
    name: str,
    arguments: Mapping[str, Any] | None,
    transport: Transport,
    documents: Documents,
) -> types.CallToolResult:
    """The result of calling `name`: never raises for a failure an assistant can act on."""
    tool = next((t for t in visible if t.name == name), None)
    if tool is None:
        known = ", ".join(t.name for t in visible) or "none"
        return tool_error(
            f"{name} is not a tool this server offers to this API key (its tools: {known})"
        )
    args = dict(arguments or {})
    try:
        check_arguments(tool, args, transport, documents.limit(tool))
        client = appliance.client(token)
        if tool.name == "get_inbound_pdf":
            run = partial(inbound_pdf, client, tool, args, transport, documents)
            content, extra = await anyio.to_thread.run_sync(run)
            return result(tool, content, extra)
        call = sdk_call(tool, args, documents)
        answer = await anyio.to_thread.run_sync(partial(call, client))
    except ToolError as exc:
        return tool_error(f"{name}: {exc}. {manifest.error_hints['arguments']}")
    except FaxbotError as exc:
        return tool_error(failure(name, exc, manifest.error_hints))
    return result(tool, wire(answer))
