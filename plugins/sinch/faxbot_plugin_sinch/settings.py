"""The plugin's settings as one typed value, read once at start: where the Fax API is, who we
are to it, and what a webhook must present."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

# Sinch's Fax API hosts: the global one routes each call to a region; a regional one pins it.
REGION_HOSTS: Mapping[str, str] = {
    "global": "https://fax.api.sinch.com",
    "use1": "https://use1.fax.api.sinch.com",
    "eu1": "https://eu1.fax.api.sinch.com",
    "sae1": "https://sae1.fax.api.sinch.com",
    "apse1": "https://apse1.fax.api.sinch.com",
    "apse2": "https://apse2.fax.api.sinch.com",
}
HIPAA = "hipaa"


@dataclass(frozen=True)
class SinchSettings:
    project_id: str
    key_id: str
    key_secret: str = field(repr=False)
    api_base_url: str
    token_url: str
    ca_file: str | None
    sender: str | None
    header_text: str | None
    callback_content_type: str
    webhook_username: str = field(repr=False)
    webhook_passwords: tuple[str, ...] = field(repr=False)  # current first, then previous
    delete_after_completion: bool
    connect_timeout: float
    request_timeout: float
    find_sent_max_pages: int

    @property
    def faxes_url(self) -> str:
        """The faxes collection of the project: every call the plugin makes is under it."""
        return f"{self.api_base_url}/v3/projects/{quote(self.project_id, safe='')}/faxes"

    def callback_url(self, webhook_url: str) -> str:
        """`webhook_url` with the current webhook credentials as its userinfo: Sinch sends them
        back as Basic credentials, the only proof a webhook came from our sends."""
        parts = urlsplit(webhook_url)
        userinfo = (
            f"{quote(self.webhook_username, safe='')}:{quote(self.webhook_passwords[0], safe='')}"
        )
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def read_settings(settings: Mapping[str, Any], profile: str) -> SinchSettings:
    """The settings the appliance passed (schema-checked, defaults applied, references
    resolved). Under the hipaa profile no stored copy is kept at Sinch longer than needed."""
    base = settings.get("api_base_url") or REGION_HOSTS[str(settings["region"])]
    previous = settings.get("webhook_password_previous")
    passwords = (str(settings["webhook_password"]), *([str(previous)] if previous else []))
    return SinchSettings(
        project_id=str(settings["project_id"]),
        key_id=str(settings["key_id"]),
        key_secret=str(settings["key_secret"]),
        api_base_url=str(base).rstrip("/"),
        token_url=str(settings["token_url"]),
        ca_file=settings.get("ca_file"),
        sender=settings.get("from"),
        header_text=settings.get("header_text"),
        callback_content_type=str(settings["callback_content_type"]),
        webhook_username=str(settings["webhook_username"]),
        webhook_passwords=passwords,
        delete_after_completion=bool(settings["delete_after_completion"]) or profile == HIPAA,
        connect_timeout=float(settings["connect_timeout_seconds"]),
        request_timeout=float(settings["timeout_seconds"]),
        find_sent_max_pages=int(settings["find_sent_max_pages"]),
    )
