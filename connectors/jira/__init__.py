"""Jira Service Management connector: issue and comment webhooks -> common model."""

from connectors.jira.translate import JiraTranslator

__all__ = ["JiraTranslator"]
