"""Schakel services: normaliser, router, delivery, sync, feed, sla, gateway and config."""
