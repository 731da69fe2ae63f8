"""The operator's number inventory and the alias numbers of billing groups."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonalite.services.billing_groups import owned_group
from tonalite.services.errors import Conflict, InvalidInput, NotFound
from tonalite.services.numbering import parse_number
from tonalite.services.principal import Principal
from tonalite.services.validation import check_text
from tonalite.store.database import Database
from tonalite.store.models import AliasNumber, BillingGroup, Line, NumberStatus, PlatformNumber


def claim_number(session: Session, number: str | None) -> str:
    """Mark a number of the inventory as assigned: the one asked for, or the first available one.

    A number the operator names that is not in the inventory yet is added to it, already assigned.
    """
    if number is None:
        row = session.scalar(
            select(PlatformNumber)
            .where(PlatformNumber.status == NumberStatus.AVAILABLE)
            .order_by(PlatformNumber.number)
            .limit(1)
            .with_for_update()
        )
        if row is None:
            raise InvalidInput("error.number_unavailable", "number")
        row.status = NumberStatus.ASSIGNED
        return row.number
    row = session.scalar(select(PlatformNumber).where(PlatformNumber.number == number).with_for_update())
    if row is None:
        session.add(PlatformNumber(number=number, status=NumberStatus.ASSIGNED))
        return number
    if row.status != NumberStatus.AVAILABLE:
        raise Conflict("error.number_taken", "number", number=number)
    row.status = NumberStatus.ASSIGNED
    return number


def number_in_use(session: Session, number: str) -> bool:
    return (
        session.scalar(select(Line.id).where(Line.number == number)) is not None
        or session.scalar(select(AliasNumber.id).where(AliasNumber.number == number)) is not None
    )


def _add_alias(session: Session, group_id: int, number: str, description: str) -> AliasNumber:
    if number_in_use(session, number):
        raise Conflict("error.number_taken", "number", number=number)
    alias = AliasNumber(
        billing_group_id=group_id,
        number=claim_number(session, number),
        description=check_text(description, 200, "description"),
    )
    session.add(alias)
    return alias


class NumberService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add_to_inventory(self, texts: list[str]) -> list[str]:
        """Add numbers to the inventory; returns the E.164 numbers that were new. All or nothing."""
        numbers = [parse_number(text, field="number") for text in texts]
        with self._db.session() as session:
            known = set(session.scalars(select(PlatformNumber.number).where(PlatformNumber.number.in_(numbers))))
            added = [n for n in dict.fromkeys(numbers) if n not in known]
            session.add_all(PlatformNumber(number=n) for n in added)
        return added

    def create_alias(self, group_id: int, number_text: str, description: str = "") -> AliasNumber:
        number = parse_number(number_text, field="number")
        with self._db.session() as session:
            if session.get(BillingGroup, group_id) is None:
                raise NotFound()
            return _add_alias(session, group_id, number, description)

    def add_aliases(self, group_id: int, texts: list[str], description: str = "") -> list[str]:
        """Make numbers alias numbers of a billing group; returns the E.164 numbers that were new. All or nothing.

        A number that already is an alias number of this billing group is left as it is.
        """
        numbers = list(dict.fromkeys(parse_number(text, field="number") for text in texts))
        with self._db.session() as session:
            if session.get(BillingGroup, group_id) is None:
                raise NotFound()
            held = set(
                session.scalars(
                    select(AliasNumber.number).where(
                        AliasNumber.billing_group_id == group_id, AliasNumber.number.in_(numbers)
                    )
                )
            )
            added = [number for number in numbers if number not in held]
            for number in added:
                _add_alias(session, group_id, number, description)
        return added

    def find_alias(self, number: str) -> AliasNumber | None:
        with self._db.session() as session:
            return session.scalar(select(AliasNumber).where(AliasNumber.number == number))

    def list_alias_numbers(self, principal: Principal, group_id: int) -> list[AliasNumber]:
        with self._db.session() as session:
            owned_group(session, principal, group_id)
            return list(
                session.scalars(
                    select(AliasNumber).where(AliasNumber.billing_group_id == group_id).order_by(AliasNumber.number)
                )
            )

    def list_inventory(self) -> list[PlatformNumber]:
        with self._db.session() as session:
            return list(session.scalars(select(PlatformNumber).order_by(PlatformNumber.number)))
