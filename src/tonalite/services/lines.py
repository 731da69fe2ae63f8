"""SIP lines: creation, reading within the owner's account, display name and SIP password."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tonalite.services.billing_groups import owned_group
from tonalite.services.errors import Conflict, InvalidInput, NotFound
from tonalite.services.numbering import parse_number
from tonalite.services.numbers import claim_number, number_in_use
from tonalite.services.principal import Principal
from tonalite.services.secrets import generate_password
from tonalite.services.validation import check_text
from tonalite.sip.auth import DigestAlgorithm, digest_ha1
from tonalite.store.database import Database
from tonalite.store.models import BillingGroup, Line, LineOptions, VoicemailBox


@dataclass(frozen=True, slots=True)
class LineCredentials:
    """What a phone needs to register; the password is shown once and never stored."""

    number: str
    username: str
    password: str
    domain: str


def sip_username_for(number: str) -> str:
    """The reference operator's convention: the E.164 digits behind 00 (+33999001234 -> 0033999001234)."""
    return "00" + number.removeprefix("+")


def owned_line(session: Session, principal: Principal, group_id: int, number_text: str) -> Line:
    owned_group(session, principal, group_id)
    try:
        number = parse_number(number_text)
    except InvalidInput:
        raise NotFound() from None
    line = session.scalar(
        select(Line).where(Line.billing_group_id == group_id, Line.number == number).options(joinedload(Line.options))
    )
    if line is None:
        raise NotFound()
    return line


class LineService:
    def __init__(self, db: Database, sip_domain: str) -> None:
        self._db = db
        self._domain = sip_domain

    def create(
        self,
        group_id: int,
        number_text: str | None = None,
        display_name: str = "",
        simultaneous_calls: int = 2,
    ) -> tuple[Line, LineCredentials]:
        number = parse_number(number_text, field="number") if number_text else None
        if not 1 <= simultaneous_calls <= 100:
            raise InvalidInput("error.value_invalid", "simultaneous_calls")
        with self._db.session() as session:
            if session.get(BillingGroup, group_id) is None:
                raise NotFound()
            if number is not None and number_in_use(session, number):
                raise Conflict("error.number_taken", "number", number=number)
            number = claim_number(session, number)
            line = Line(
                billing_group_id=group_id,
                number=number,
                sip_username=sip_username_for(number),
                display_name=check_text(display_name, 100, "display_name"),
                simultaneous_calls=simultaneous_calls,
                options=LineOptions(),
                voicemail_box=VoicemailBox(),
            )
            password = self._set_password(line)
            session.add(line)
        return line, LineCredentials(line.number, line.sip_username, password, self._domain)

    def list_all(self) -> list[Line]:
        with self._db.session() as session:
            return list(session.scalars(select(Line).order_by(Line.number)))

    def list_in_billing_group(self, group_id: int) -> list[Line]:
        """The operator's listing of one billing group, from the command line: no account scope."""
        with self._db.session() as session:
            if session.get(BillingGroup, group_id) is None:
                raise NotFound()
            return list(session.scalars(select(Line).where(Line.billing_group_id == group_id).order_by(Line.number)))

    def list(self, principal: Principal, group_id: int) -> list[Line]:
        with self._db.session() as session:
            owned_group(session, principal, group_id)
            return list(
                session.scalars(
                    select(Line)
                    .where(Line.billing_group_id == group_id)
                    .options(joinedload(Line.options))
                    .order_by(Line.number)
                )
            )

    def get(self, principal: Principal, group_id: int, number_text: str) -> Line:
        with self._db.session() as session:
            return owned_line(session, principal, group_id, number_text)

    def rename(self, principal: Principal, group_id: int, number_text: str, display_name: str) -> Line:
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number_text)
            line.display_name = check_text(display_name, 100, "displayName")
            return line

    def reset_password(self, principal: Principal, group_id: int, number_text: str) -> LineCredentials:
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number_text)
            password = self._set_password(line)
            return LineCredentials(line.number, line.sip_username, password, self._domain)

    def reset_password_by_number(self, number_text: str) -> LineCredentials:
        """The operator's reset, from the command line: no account scope."""
        number = parse_number(number_text, field="number")
        with self._db.session() as session:
            line = session.scalar(select(Line).where(Line.number == number))
            if line is None:
                raise NotFound()
            password = self._set_password(line)
            return LineCredentials(line.number, line.sip_username, password, self._domain)

    def _set_password(self, line: Line) -> str:
        password = generate_password()
        line.sip_realm = self._domain
        line.ha1_md5 = digest_ha1(DigestAlgorithm.MD5, line.sip_username, self._domain, password)
        line.ha1_sha256 = digest_ha1(DigestAlgorithm.SHA256, line.sip_username, self._domain, password)
        return password
