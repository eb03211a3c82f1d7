"""Xurrent (formerly 4me) connector: request and CI webhooks -> common model."""

from connectors.xurrent.translate import XurrentTranslator

__all__ = ["XurrentTranslator"]
