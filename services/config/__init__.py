"""Configuration of the hub: the YAML config (suppliers, gemeenten, routing) and settings.

>>> from services.config import load_config
>>> config = load_config("config/schakel.yaml")
>>> config.supplier("kpn").source_urn
'urn:nld:kvk:90000011:systeem:servicenow-prod'
"""

from services.config.contexts import config_dir, supplier_context, supplier_contexts
from services.config.errors import (
    ConfigError,
    ConfigProblem,
    UnknownGemeenteError,
    UnknownSupplierError,
    UnknownTeamError,
)
from services.config.loader import load_config
from services.config.models import (
    CI_OWNERS,
    Channel,
    EmailChannel,
    FbTeam,
    Gemeente,
    Priority,
    Recipient,
    RoutingConfig,
    RoutingRule,
    RuleMatch,
    SchakelConfig,
    ServiceWindow,
    SlaCalendar,
    SlaCalendarVersion,
    SlaConfig,
    SlaRules,
    SlaTarget,
    SupplierConfig,
    SupplierContract,
    SupplierCredentials,
    SystemName,
    TopdeskChannel,
    WebhookChannel,
)
from services.config.settings import KafkaSecurity, Settings, get_settings

__all__ = [
    "CI_OWNERS",
    "Channel",
    "ConfigError",
    "ConfigProblem",
    "EmailChannel",
    "FbTeam",
    "Gemeente",
    "KafkaSecurity",
    "Priority",
    "Recipient",
    "RoutingConfig",
    "RoutingRule",
    "RuleMatch",
    "SchakelConfig",
    "ServiceWindow",
    "Settings",
    "SlaCalendar",
    "SlaCalendarVersion",
    "SlaConfig",
    "SlaRules",
    "SlaTarget",
    "SupplierConfig",
    "SupplierContract",
    "SupplierCredentials",
    "SystemName",
    "TopdeskChannel",
    "UnknownGemeenteError",
    "UnknownSupplierError",
    "UnknownTeamError",
    "WebhookChannel",
    "config_dir",
    "get_settings",
    "load_config",
    "supplier_context",
    "supplier_contexts",
]
