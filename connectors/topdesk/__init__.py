"""TOPdesk connector: incidents, operator changes and assets (REST /tas/api) -> common model."""

from connectors.topdesk.translate import TopdeskTranslator

__all__ = ["TopdeskTranslator"]
