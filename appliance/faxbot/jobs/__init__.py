"""Fax jobs as the domain sees them: queueing a send, reading jobs back. Speaks no HTTP: the
server maps its errors to responses in one place (faxbot.server.errors)."""
