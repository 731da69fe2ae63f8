"""A line's call options as the features read them: a frozen snapshot of its LineOptions row, so that star codes
and forwarding decide without a database session. Field names are LineOptions' (a forward's three columns,
`forward_busy`, `forward_busy_number`, `forward_busy_nature`, become one `forward_busy`)."""

from __future__ import annotations

from dataclasses import dataclass

from tonalite.services.line_directory import LineSettings
from tonalite.store.models import ForwardNature, LineOptions


@dataclass(frozen=True, slots=True)
class Forward:
    """One forward: on or off, and where it goes. The destination is kept when it is off (*21# turns it back on).
    Nature voicemail goes to the voicemail of the line `number` names, or of the line itself when it is empty."""

    enabled: bool = False
    number: str = ""
    nature: ForwardNature = ForwardNature.NUMBER

    @property
    def has_destination(self) -> bool:
        return self.nature == ForwardNature.VOICEMAIL or bool(self.number)


@dataclass(frozen=True, slots=True)
class CallOptions:
    forward_unconditional: Forward = Forward()
    forward_no_reply: Forward = Forward()
    forward_no_reply_delay: int = 20
    forward_busy: Forward = Forward()
    forward_backup: Forward = Forward()
    do_not_disturb: bool = False
    absent_subscriber: bool = False
    identification_restriction: bool = False
    anonymous_call_rejection: bool = False
    call_waiting: bool = True
    lock_out_call: bool = False
    display_number: str = ""
    """The number of the line's billing group its calls present instead of the line's own; empty: its own."""

    @classmethod
    def of(cls, options: LineOptions | LineSettings) -> CallOptions:
        return cls(
            forward_unconditional=Forward(
                options.forward_unconditional,
                options.forward_unconditional_number,
                options.forward_unconditional_nature,
            ),
            forward_no_reply=Forward(
                options.forward_no_reply, options.forward_no_reply_number, options.forward_no_reply_nature
            ),
            forward_no_reply_delay=options.forward_no_reply_delay,
            forward_busy=Forward(options.forward_busy, options.forward_busy_number, options.forward_busy_nature),
            forward_backup=Forward(
                options.forward_backup, options.forward_backup_number, options.forward_backup_nature
            ),
            do_not_disturb=options.do_not_disturb,
            absent_subscriber=options.absent_subscriber,
            identification_restriction=options.identification_restriction,
            anonymous_call_rejection=options.anonymous_call_rejection,
            call_waiting=options.call_waiting,
            lock_out_call=options.lock_out_call,
            display_number=options.display_number,
        )
