"""Provider webhooks: `POST /webhooks/{plugin_id}` verified by the plugin, its events applied
by the core (service.py); the HTTP side is server/routes/webhooks.py."""
