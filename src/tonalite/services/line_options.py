"""A line's call options: validated together, and every change recorded with where it came from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tonalite.clock import Clock
from tonalite.services.accounts import principal_of
from tonalite.services.errors import InvalidInput, NotFound
from tonalite.services.lines import owned_line
from tonalite.services.numbering import parse_number
from tonalite.services.principal import Principal
from tonalite.services.secrets import hash_password
from tonalite.store.database import Database
from tonalite.store.models import (
    AliasNumber,
    BillingGroup,
    ChangeOrigin,
    ForwardNature,
    Language,
    Line,
    LineOptionChange,
    LineOptions,
)

FORWARDS = ("forward_unconditional", "forward_no_reply", "forward_busy", "forward_backup")
FLAGS = (
    "do_not_disturb",
    "absent_subscriber",
    "anonymous_call_rejection",
    "identification_restriction",
    "call_waiting",
    "lock_out_call",
)
NO_REPLY_DELAY_RANGE = (5, 120)
PIN_FIELD = "lock_out_call_password"
MAX_LINES_AT_ONCE = 100
HISTORY_LENGTH = 50
EDITABLE = frozenset(
    [*FORWARDS, *FLAGS, "forward_no_reply_delay", "display_number", PIN_FIELD]
    + [f"{forward}_{part}" for forward in FORWARDS for part in ("number", "nature")]
)


class LineOptionsService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def get(self, principal: Principal, group_id: int, number: str) -> LineOptions:
        with self._db.session() as session:
            return owned_line(session, principal, group_id, number).options

    def update(
        self,
        principal: Principal,
        group_id: int,
        number: str,
        changes: Mapping[str, Any],
        origin: ChangeOrigin,
    ) -> LineOptions:
        """Apply `changes` (snake_case option names) all together, or none of them if one is invalid."""
        (options,) = self.update_many(principal, group_id, [number], changes, origin).values()
        return options

    def update_many(
        self,
        principal: Principal,
        group_id: int,
        numbers: Sequence[str],
        changes: Mapping[str, Any],
        origin: ChangeOrigin,
    ) -> dict[str, LineOptions]:
        """Apply the same `changes` to several lines of the billing group: to all of them, or to none if one
        line is not found or one change is invalid on one of them. The options by line number (E.164)."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidInput("error.value_invalid", sorted(unknown)[0])
        if not 1 <= len(numbers) <= MAX_LINES_AT_ONCE:
            raise InvalidInput("error.lines_count", "lines", max=MAX_LINES_AT_ONCE)
        with self._db.session() as session:
            lines = {line.number: line for line in (owned_line(session, principal, group_id, n) for n in numbers)}
            return {number: self._apply(session, principal, line, changes, origin) for number, line in lines.items()}

    def history(self, principal: Principal, group_id: int, number: str) -> list[LineOptionChange]:
        """The line's latest changes, newest first."""
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number)
            return list(
                session.scalars(
                    select(LineOptionChange)
                    .where(LineOptionChange.line_id == line.id)
                    .order_by(LineOptionChange.id.desc())
                    .limit(HISTORY_LENGTH)
                )
            )

    # The call core's side: a star code dialled on the line's own phone, no principal (the line's account's).

    def of_line(self, line_id: int) -> tuple[LineOptions, Language]:
        """The line's options, and its account's language (what the phone hears)."""
        with self._db.session() as session:
            line = _line_with_account(session, line_id)
            return line.options, line.billing_group.account.language

    def update_from_phone(self, line_id: int, changes: Mapping[str, Any]) -> LineOptions:
        """Apply a star code's `changes`, validated as the panel's and recorded with the phone as their origin."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidInput("error.value_invalid", sorted(unknown)[0])
        with self._db.session() as session:
            line = _line_with_account(session, line_id)
            principal = principal_of(line.billing_group.account)
            return self._apply(session, principal, line, changes, ChangeOrigin.PHONE)

    def _apply(
        self, session: Session, principal: Principal, line: Line, changes: Mapping[str, Any], origin: ChangeOrigin
    ) -> LineOptions:
        options = line.options
        before = {name: _shown(getattr(options, name)) for name in EDITABLE - {PIN_FIELD}}
        for name, value in changes.items():
            if name == PIN_FIELD:
                options.lock_out_call_pin_hash = hash_password(_check_pin(value))
            else:
                setattr(options, name, self._normalised(session, line, principal, name, value))
        _check_consistency(options)
        _check_destinations(session, line, options, changes)
        now = self._clock.wall()
        for name, old in before.items():
            new = _shown(getattr(options, name))
            if new != old:
                session.add(
                    LineOptionChange(
                        line_id=line.id, field=name, old_value=old, new_value=new, origin=origin, changed_at=now
                    )
                )
        if PIN_FIELD in changes:
            session.add(
                LineOptionChange(
                    line_id=line.id, field=PIN_FIELD, old_value="", new_value="", origin=origin, changed_at=now
                )
            )
        return options

    def _normalised(self, session: Session, line: Line, principal: Principal, name: str, value: Any) -> Any:
        if name.endswith("_number") and name.startswith("forward_"):
            return parse_number(value, principal.country, field=name) if value else ""
        if name.endswith("_nature"):
            try:
                return ForwardNature(value)
            except ValueError:
                raise InvalidInput("error.value_invalid", name) from None
        if name == "forward_no_reply_delay":
            low, high = NO_REPLY_DELAY_RANGE
            if not isinstance(value, int) or not low <= value <= high:
                raise InvalidInput("error.delay_range", name, min=low, max=high)
            return value
        if name == "display_number":
            return _group_number(session, line, principal, value) if value else ""
        if not isinstance(value, bool):
            raise InvalidInput("error.value_invalid", name)
        return value


def _line_with_account(session: Session, line_id: int) -> Line:
    line = session.scalar(
        select(Line)
        .where(Line.id == line_id)
        .options(joinedload(Line.options), joinedload(Line.billing_group).joinedload(BillingGroup.account))
    )
    if line is None:
        raise NotFound()
    return line


def _group_number(session: Session, line: Line, principal: Principal, value: str) -> str:
    """displayNumber may only present a number the line's billing group holds."""
    number = parse_number(value, principal.country, field="display_number")
    held = session.scalar(
        select(Line.id).where(Line.number == number, Line.billing_group_id == line.billing_group_id)
    ) or session.scalar(
        select(AliasNumber.id).where(
            AliasNumber.number == number, AliasNumber.billing_group_id == line.billing_group_id
        )
    )
    if held is None:
        raise InvalidInput("error.number_not_held", "display_number", number=number)
    return number


def _check_pin(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 4 or not value.isdigit():
        raise InvalidInput("error.pin_invalid", PIN_FIELD)
    return value


def _check_consistency(options: LineOptions) -> None:
    for forward in FORWARDS:
        active = getattr(options, forward)
        nature = getattr(options, f"{forward}_nature")
        if active and nature != ForwardNature.VOICEMAIL and not getattr(options, f"{forward}_number"):
            raise InvalidInput("error.forward_number_required", f"{forward}_number")
    if options.lock_out_call and not options.lock_out_call_pin_hash:
        raise InvalidInput("error.pin_required", PIN_FIELD)


def _check_destinations(session: Session, line: Line, options: LineOptions, changes: Mapping[str, Any]) -> None:
    """A forward to a line (nature line), or to a line's voicemail (nature voicemail with a number), names a line
    of the forwarding line's account, in any of its billing groups; a forward to a line never names the line
    itself (its own voicemail is nature voicemail). Checked when a change names the destination or turns the
    forward on, whoever makes it: the panel, the API, or a star code, which sets nature number or voicemail."""
    for forward in FORWARDS:
        names = {f"{forward}_number", f"{forward}_nature"}
        if not (names & changes.keys() or (forward in changes and getattr(options, forward))):
            continue
        nature = getattr(options, f"{forward}_nature")
        number = getattr(options, f"{forward}_number")
        if nature == ForwardNature.NUMBER or not number:
            continue
        field = f"{forward}_number"
        if nature == ForwardNature.LINE and number == line.number:
            raise InvalidInput("error.forward_line_itself", field)
        if number != line.number and not _account_line(session, line, number):
            raise InvalidInput("error.forward_line_not_in_account", field, number=number)


def _account_line(session: Session, line: Line, number: str) -> bool:
    """Whether a line of `line`'s account, in any of its billing groups, holds `number`."""
    found = session.scalar(
        select(Line.id)
        .join(BillingGroup, Line.billing_group_id == BillingGroup.id)
        .where(Line.number == number, BillingGroup.account_id == line.billing_group.account_id)
    )
    return found is not None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value.value if hasattr(value, "value") else value)
