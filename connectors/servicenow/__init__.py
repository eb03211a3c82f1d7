"""ServiceNow connector: Table API records and business-rule webhooks -> common model."""

from connectors.servicenow.translate import ServiceNowTranslator

__all__ = ["ServiceNowTranslator"]
