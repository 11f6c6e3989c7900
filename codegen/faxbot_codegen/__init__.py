"""`faxbot codegen`: the OpenAPI spec, the MCP tool manifest and the Python and Node SDKs,
generated from one source: the appliance's route handlers and the capability catalog."""
