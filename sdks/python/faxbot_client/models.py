"""Every model type of the API (generated from the spec into `faxbot_client._generated`), under
a public name: `from faxbot_client.models import HealthChecks`. The ones the client's methods
return are also in `faxbot_client` itself."""

from faxbot_client._generated.models import *  # noqa: F403 (the generated package's __all__)
from faxbot_client._generated.models import __all__ as __all__  # noqa: PLC0414
