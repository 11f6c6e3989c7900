"""The Faxbot MCP server for Python (`faxbot-mcp`): the appliance's fax tools for AI assistants,
over stdio or streamable HTTP, on the official `mcp` SDK. The tools, their schemas and their
gating come from the generated manifest `tools.json` (a copy of docs/mcp/tools.json that
`faxbot codegen` keeps); every call goes to the appliance through the Python SDK
(`faxbot_client`). The server holds no provider logic and no key of its own over HTTP."""
