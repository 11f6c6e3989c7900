"""Which API operations the audit log records, as what: reads and sends of fax content and of
the appliance's configuration. The services record what they did; the scope check records
the requests it turned away."""

from __future__ import annotations

from collections.abc import Mapping

from faxbot.audit import Action

AUDITED: Mapping[str, Action] = {
    "send_fax": Action.FAX_SEND,
    "get_fax_status": Action.FAX_STATUS_READ,
    "list_faxes": Action.FAX_LIST_READ,
    "list_inbound": Action.INBOUND_LIST_READ,
    "get_inbound": Action.INBOUND_READ,
    "get_inbound_pdf": Action.DOCUMENT_DOWNLOAD,
    "get_plugin_config": Action.CONFIG_READ,
    "get_diagnostics": Action.CONFIG_READ,
}
