"""The demo account: one billing group, three lines and two alias numbers in the ranges kept for fiction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tonalite.services.accounts import AccountService
from tonalite.services.billing_groups import BillingGroupService
from tonalite.services.lines import LineCredentials, LineService
from tonalite.services.numbers import NumberService
from tonalite.services.secrets import generate_password
from tonalite.store.database import Database
from tonalite.store.models import AliasNumber, BillingGroup, Language, Line

DEMO_LOGIN = "demo"
DEMO_LINES = (
    ("+33199001001", "Accueil"),
    ("+33199001002", "Comptabilité"),
    ("+33199001003", "Direction"),
)
DEMO_ALIASES = (("+33999001001", "Standard"), ("+33999001002", "Support"))


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    login: str
    password: str
    billing_group_id: int
    lines: list[LineCredentials]
    aliases: list[str]


class DemoService:
    """Creates the demo once; every run resets its passwords, since only hashes are stored."""

    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        billing_groups: BillingGroupService,
        lines: LineService,
        numbers: NumberService,
    ) -> None:
        self._db = db
        self._accounts = accounts
        self._billing_groups = billing_groups
        self._lines = lines
        self._numbers = numbers

    def ensure(self) -> DemoCredentials:
        password = generate_password()
        account = self._accounts.find_by_login(DEMO_LOGIN)
        if account is None:
            account = self._accounts.create(
                DEMO_LOGIN, password, "Démo SARL", "demo@example.com", "+33612345678", Language.FR
            )
        else:
            self._accounts.set_password(account.id, password)
        with self._db.session() as session:
            group_id = session.scalar(
                select(BillingGroup.id).where(BillingGroup.account_id == account.id).order_by(BillingGroup.id)
            )
            existing_lines = set(session.scalars(select(Line.number)))
            existing_aliases = set(session.scalars(select(AliasNumber.number)))
        if group_id is None:
            group_id = self._billing_groups.create(account.id, "Démo").id
        credentials = []
        for number, name in DEMO_LINES:
            if number in existing_lines:
                credentials.append(self._lines.reset_password_by_number(number))
            else:
                credentials.append(self._lines.create(group_id, number, name)[1])
        for number, description in DEMO_ALIASES:
            if number not in existing_aliases:
                self._numbers.create_alias(group_id, number, description)
        return DemoCredentials(DEMO_LOGIN, password, group_id, credentials, [number for number, _ in DEMO_ALIASES])
