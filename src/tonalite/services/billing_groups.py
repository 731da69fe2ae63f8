"""Billing groups, always read through the account that owns them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonalite.services.errors import NotFound
from tonalite.services.principal import Principal
from tonalite.services.validation import check_text
from tonalite.store.database import Database
from tonalite.store.models import Account, BillingGroup


def owned_group(session: Session, principal: Principal, group_id: int) -> BillingGroup:
    """The billing group if the caller's account owns it; another account's group is simply not found."""
    group = session.get(BillingGroup, group_id)
    if group is None or group.account_id != principal.account_id:
        raise NotFound()
    return group


class BillingGroupService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, principal: Principal) -> list[BillingGroup]:
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(BillingGroup)
                    .where(BillingGroup.account_id == principal.account_id)
                    .order_by(BillingGroup.id)
                )
            )

    def get(self, principal: Principal, group_id: int) -> BillingGroup:
        with self._db.session() as session:
            return owned_group(session, principal, group_id)

    def create(self, account_id: int, description: str) -> BillingGroup:
        with self._db.session() as session:
            if session.get(Account, account_id) is None:
                raise NotFound()
            group = BillingGroup(account_id=account_id, description=check_text(description, 200, "description"))
            session.add(group)
        return group
