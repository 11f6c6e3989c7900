"""The dispatcher: moves durable jobs through hand-over and status polling."""
