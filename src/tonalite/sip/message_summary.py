"""The message-summary event package's body, application/simple-message-summary (RFC 3842 §5), sans-IO.

A notifier writes whether messages wait, the account they wait in, and the voice messages' new/old counts:

    Messages-Waiting: yes
    Message-Account: sip:+33999000001@sip.example.com
    Voice-Message: 2/8

Reading takes what RFC 3842 §5.2 allows besides: header names in any case, urgent counts in parentheses
(`2/8 (0/1)`), other message classes (fax-message, …, ignored), and optional headers after a blank line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EVENT_PACKAGE = "message-summary"
CONTENT_TYPE = "application/simple-message-summary"

_COUNTS = re.compile(r"(\d{1,9})\s*/\s*(\d{1,9})(?:\s*\(\s*\d{1,9}\s*/\s*\d{1,9}\s*\))?")


class MessageSummaryError(ValueError):
    """A body that does not follow RFC 3842 §5.2."""


@dataclass(frozen=True, slots=True)
class MessageSummary:
    new: int
    old: int
    account: str | None = None
    """The URI of the box the counts are for (Message-Account), when the notifier names it."""

    @property
    def waiting(self) -> bool:
        return self.new > 0

    def serialise(self) -> bytes:
        lines = [f"Messages-Waiting: {'yes' if self.waiting else 'no'}"]
        if self.account is not None:
            lines.append(f"Message-Account: {self.account}")
        lines.append(f"Voice-Message: {self.new}/{self.old}")
        return "".join(f"{line}\r\n" for line in lines).encode()

    @classmethod
    def parse(cls, body: bytes) -> MessageSummary:
        """The voice-message counts (0/0 when the body gives none) and the account of a body.

        Messages-Waiting is read but not believed over the counts: a body saying `yes` with a count of 0
        new voice messages may have other classes waiting, which this platform does not keep."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MessageSummaryError("not UTF-8") from error
        fields: dict[str, str] = {}
        for line in text.replace("\r\n", "\n").split("\n"):
            if not line.strip():
                break  # the optional message headers follow a blank line (§5.2)
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise MessageSummaryError(f"not a header line: {line[:40]!r}")
            fields[name.strip().lower()] = value.strip()
        if fields.get("messages-waiting", "").lower() not in ("yes", "no"):
            raise MessageSummaryError("Messages-Waiting must be yes or no")
        new, old = 0, 0
        voice = fields.get("voice-message")
        if voice is not None:
            counts = _COUNTS.fullmatch(voice)
            if counts is None:
                raise MessageSummaryError(f"malformed Voice-Message: {voice[:40]!r}")
            new, old = int(counts.group(1)), int(counts.group(2))
        return cls(new, old, fields.get("message-account"))
