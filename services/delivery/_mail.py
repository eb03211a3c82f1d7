"""The e-mail sink: one plain-text + HTML message per delivery, through an SMTP relay.

The Message-ID is derived from the idempotency key, so a redelivered message is recognisable
as the same one; updates carry In-Reply-To and References naming the first message about the
ticket, so mail clients show one thread per ticket. ``Auto-Submitted: auto-generated``
(RFC 3834) keeps out-of-office replies away. SMTP runs on the standard library in a worker
thread; 4xx replies and connection failures are transient, 5xx replies permanent.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate

from services.config.models import EmailChannel
from services.delivery._render import render_html, render_text, subject
from services.delivery.channels import Delivery, Receipt
from services.delivery.errors import DeliveryError, ReceiverRejected, ReceiverUnavailable

__all__ = ["EmailSink", "compose_message", "message_id"]

_HOSTNAME = socket.gethostname() or "schakel"


def message_id(delivery: Delivery, sender: str) -> str:
    """``<idempotency-key@sender-domain>``: the same delivery always has the same id."""
    domain = sender.rpartition("@")[2] or "schakel.invalid"
    return f"<{delivery.idempotency_key}@{domain}>"


def compose_message(delivery: Delivery, config: EmailChannel) -> EmailMessage:
    """The message for ``delivery``: pure, no I/O."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Subject"] = subject(delivery)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(delivery, config.sender)
    if delivery.receiver_ref:
        message["In-Reply-To"] = delivery.receiver_ref
        message["References"] = delivery.receiver_ref
    message["Auto-Submitted"] = "auto-generated"
    message["X-Schakel-Hub-Id"] = delivery.hub_id
    message["X-Schakel-Event-Id"] = delivery.event_id
    message["X-Schakel-Idempotency-Key"] = delivery.idempotency_key
    message.set_content(render_text(delivery))
    message.add_alternative(render_html(delivery), subtype="html")
    return message


def _smtp_error(error: smtplib.SMTPException, what: str) -> DeliveryError:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        reason = f"{what}: all recipients refused ({', '.join(map(str, codes))})"
        if any(400 <= code < 500 for code in codes):
            return ReceiverUnavailable(reason, status=min(codes))
        return ReceiverRejected(reason, status=min(codes) if codes else None)
    if isinstance(error, smtplib.SMTPResponseException):
        raw = error.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        reason = f"{what}: SMTP {error.smtp_code} {' '.join(text.split())[:200]}"
        if 400 <= error.smtp_code < 500 or error.smtp_code < 0:
            return ReceiverUnavailable(reason, status=error.smtp_code)
        return ReceiverRejected(reason, status=error.smtp_code)
    return ReceiverUnavailable(f"{what}: {type(error).__name__}: {error}")


class EmailSink:
    """Sends through the channel's SMTP relay (no authentication, as the config has none)."""

    def __init__(self, config: EmailChannel, *, timeout_s: float = 30.0) -> None:
        self._config = config
        self._timeout = timeout_s
        self._what = f"smtp {config.smtp_host}:{config.smtp_port}"

    async def deliver(self, delivery: Delivery) -> Receipt:
        message = compose_message(delivery, self._config)
        await asyncio.to_thread(self._send, message)
        return Receipt(status="sent", receiver_ref=str(message["Message-ID"]))

    def _send(self, message: EmailMessage) -> None:
        smtp = smtplib.SMTP(timeout=self._timeout, local_hostname=_HOSTNAME)
        try:
            smtp.connect(self._config.smtp_host, self._config.smtp_port)
            smtp.send_message(message, from_addr=self._config.sender, to_addrs=self._config.to)
        except smtplib.SMTPException as error:
            raise _smtp_error(error, self._what) from error
        except OSError as error:  # refused, reset, timed out
            raise ReceiverUnavailable(f"{self._what}: {type(error).__name__}: {error}") from error
        finally:
            try:
                smtp.quit()  # the message is accepted already; a failing QUIT changes nothing
            except (smtplib.SMTPException, OSError):
                smtp.close()
