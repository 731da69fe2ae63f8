"""Email the platform sends to customers, through the operator's SMTP relay, each kept in the account's
service-email archive (`Notification`): recorded before it is sent, then marked sent or failed with the
relay's answer, so that the archive tells what a customer was sent and what never reached them.

Attachments go out with the email but are not archived: the archive keeps the text a customer read.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from tonalite.clock import Clock
from tonalite.config import Settings
from tonalite.store.database import Database
from tonalite.store.models import Notification, NotificationChannel, NotificationStatus

log = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    sender: str

    @classmethod
    def of(cls, settings: Settings) -> SmtpRelay:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            settings.smtp_password.get_secret_value(),
            settings.smtp_starttls,
            settings.mail_from,
        )


class Outbox:
    def __init__(self, db: Database, clock: Clock, relay: SmtpRelay) -> None:
        self._db = db
        self._clock = clock
        self._relay = relay

    async def send(
        self,
        account_id: int,
        recipient: str,
        subject: str,
        body: str,
        attachments: tuple[Attachment, ...] = (),
    ) -> Notification:
        """Archive the email, send it, and record how that went; never raises for the relay's failures."""
        notification = await asyncio.to_thread(self._archive, account_id, recipient, subject, body)
        message = self._message(recipient, subject, body, attachments)
        relay = self._relay
        try:
            await aiosmtplib.send(
                message,
                hostname=relay.host,
                port=relay.port,
                username=relay.username or None,
                password=relay.password or None,
                start_tls=relay.starttls,
                timeout=SMTP_TIMEOUT_S,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            log.warning("email %d to the SMTP relay %s:%d failed: %s", notification.id, relay.host, relay.port, error)
            return await asyncio.to_thread(self._settle, notification.id, NotificationStatus.FAILED, str(error))
        return await asyncio.to_thread(self._settle, notification.id, NotificationStatus.SENT, "")

    def _message(self, recipient: str, subject: str, body: str, attachments: tuple[Attachment, ...]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._relay.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="tonalite")
        message.set_content(body)
        for attachment in attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
        return message

    def _archive(self, account_id: int, recipient: str, subject: str, body: str) -> Notification:
        with self._db.session() as session:
            notification = Notification(
                account_id=account_id,
                channel=NotificationChannel.EMAIL,
                recipient=recipient,
                subject=subject[:255],
                body=body,
                created_at=self._clock.wall(),
            )
            session.add(notification)
            session.flush()
            return notification

    def _settle(self, notification_id: int, status: NotificationStatus, error: str) -> Notification:
        with self._db.session() as session:
            notification = session.get(Notification, notification_id)
            assert notification is not None
            notification.status = status
            notification.error = error
            if status == NotificationStatus.SENT:
                notification.sent_at = self._clock.wall()
            return notification
