"""Received faxes: stored from a provider's webhook (webhooks/), read through the API."""
