"""A call as the platform sees it: who calls whom, how far it got, and how it ended."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from tonalite.services.line_directory import SipLine
from tonalite.store.models import CallDirection, CallResult


class CallState(Enum):
    ROUTING = "routing"
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


# How a final answer of the callee's side ends the call in its record.
RESULT_OF_STATUS = {
    408: CallResult.NO_ANSWER,
    480: CallResult.UNREACHABLE,
    486: CallResult.BUSY,
    487: CallResult.CANCELLED,
    600: CallResult.BUSY,
    603: CallResult.REJECTED,
}


@dataclass(slots=True)
class Call:
    """Who calls: a number, and the platform line it is when it is one (not for a call from a trunk, whose
    caller is the number the carrier presented). Who is called: a number, and the line when it is one (not
    for a call out through a trunk)."""

    caller_number: str
    callee_number: str
    started_at: datetime
    caller_line: SipLine | None = None
    callee_line: SipLine | None = None
    direction: CallDirection = CallDirection.INTERNAL
    caller_name: str = ""
    """The name presented with the caller's number: a line's display name, or what the carrier sent."""
    caller_hidden: bool = False
    """The caller's number is withheld from the callee (CLIR); the platform still knows and records it."""
    presented_number: str = ""
    """The number shown to the callee when not the caller's own (a line's displayNumber); empty: its own."""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: CallState = CallState.ROUTING
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    result: CallResult | None = None
    sip_code: int | None = None

    @property
    def billing_group_id(self) -> int | None:
        """The billing group the call is billed to and listed in: the caller's, else the callee's."""
        line = self.caller_line or self.callee_line
        return line.billing_group_id if line is not None else None

    def answer(self, now: datetime) -> None:
        self.state = CallState.ANSWERED
        self.answered_at = now

    def end(self, now: datetime, result: CallResult, sip_code: int | None) -> bool:
        """Record how the call ended; False when it had already ended (the first end is the true one)."""
        if self.state == CallState.ENDED:
            return False
        self.state = CallState.ENDED
        self.ended_at = now
        self.result = result
        self.sip_code = sip_code
        return True

    @property
    def duration_s(self) -> int:
        if self.answered_at is None or self.ended_at is None:
            return 0
        return max(0, round((self.ended_at - self.answered_at).total_seconds()))
