"""Outbound delivery of reminder messages: email now, SMS through a backend.

One small interface and one error type. A transport either returns (the
message was handed over) or raises `TransportError`; `permanent=True` means
retrying cannot help (no address, rejected recipient), so the reminder is
failed for good instead of backed off.

The SMS backend is chosen by `settings.SMS_BACKEND` (a dotted path). The
console backend (default, and in tests) logs the text; the file backend
appends it to a file under `settings.SMS_FILE_PATH`. A real provider is a
later subclass of `SMSBackend`.
"""

import logging
import smtplib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass
class Message:
    """A rendered reminder, ready for any channel."""

    to: str
    subject: str
    text: str
    html: str = ""
    headers: dict = field(default_factory=dict)


class Transport:
    def send(self, message: Message) -> None:
        raise NotImplementedError


class EmailTransport(Transport):
    def send(self, message: Message) -> None:
        if not message.to:
            raise TransportError("The patient has no email address.", permanent=True)
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            to=[message.to],
            headers=message.headers,
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"Recipient refused: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc


class SMSBackend:
    """Send one text message; raise TransportError on failure."""

    def send_sms(self, *, to: str, text: str) -> None:
        raise NotImplementedError


class ConsoleSMSBackend(SMSBackend):
    def send_sms(self, *, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to, text)


class FileSMSBackend(SMSBackend):
    def send_sms(self, *, to: str, text: str) -> None:
        directory = Path(settings.SMS_FILE_PATH)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with open(directory / "outbox.log", "a", encoding="utf-8") as f:
                f.write(f"{timezone.now().isoformat()}\t{to}\t{text}\n")
        except OSError as exc:
            raise TransportError(f"Could not write the SMS file: {exc}") from exc


def get_sms_backend() -> SMSBackend:
    return import_string(settings.SMS_BACKEND)()


class SMSTransport(Transport):
    def send(self, message: Message) -> None:
        if not message.to:
            raise TransportError("The patient has no phone number.", permanent=True)
        get_sms_backend().send_sms(to=message.to, text=message.text)


def get_transport(channel: str) -> Transport:
    return {"email": EmailTransport, "sms": SMSTransport}[channel]()
