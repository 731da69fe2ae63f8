"""Customer accounts: creation by the operator, and sign-in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonalite.services.errors import AuthenticationFailed, Conflict, NotFound
from tonalite.services.numbering import parse_number
from tonalite.services.principal import Principal
from tonalite.services.secrets import hash_password, verify_password
from tonalite.services.validation import check_email, check_login, check_password, check_text
from tonalite.store.database import Database
from tonalite.store.models import Account, BillingGroup, Language

# Verifying against this when the login is unknown makes a wrong login cost the same time as a wrong password.
_UNKNOWN_LOGIN_HASH = hash_password("no account has this password")


def principal_of(account: Account) -> Principal:
    return Principal(account.id, account.login, account.language, account.country)


def _new_account(
    login: str,
    password: str,
    company_name: str,
    contact_email: str,
    mobile_number: str | None,
    language: Language,
) -> Account:
    return Account(
        login=check_login(login),
        password_hash=hash_password(check_password(password)),
        company_name=check_text(company_name, 200, "company_name"),
        contact_email=check_email(contact_email),
        mobile_number=parse_number(mobile_number, field="mobile_number") if mobile_number else None,
        language=language,
    )


def _add_account(session: Session, account: Account) -> None:
    if session.scalar(select(Account.id).where(Account.login == account.login)) is not None:
        raise Conflict("error.login_taken", "login", login=account.login)
    session.add(account)


class AccountService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        login: str,
        password: str,
        company_name: str,
        contact_email: str,
        mobile_number: str | None = None,
        language: Language = Language.FR,
    ) -> Account:
        account = _new_account(login, password, company_name, contact_email, mobile_number, language)
        with self._db.session() as session:
            _add_account(session, account)
        return account

    def create_with_billing_group(
        self,
        login: str,
        password: str,
        company_name: str,
        contact_email: str,
        billing_group_description: str,
        mobile_number: str | None = None,
        language: Language = Language.FR,
    ) -> tuple[Account, BillingGroup]:
        """An account and its first billing group, both or neither (the operator's `tonalite account create`)."""
        account = _new_account(login, password, company_name, contact_email, mobile_number, language)
        group = BillingGroup(account=account, description=check_text(billing_group_description, 200, "description"))
        with self._db.session() as session:
            _add_account(session, account)
            session.add(group)
        return account, group

    def find_by_login(self, login: str) -> Account | None:
        with self._db.session() as session:
            return session.scalar(select(Account).where(Account.login == login))

    def get(self, principal: Principal) -> Account:
        with self._db.session() as session:
            account = session.get(Account, principal.account_id)
            if account is None:
                raise NotFound()
            return account

    def authenticate(self, login: str, password: str) -> Principal:
        account = self.find_by_login(login) if len(login) <= 64 else None
        stored = account.password_hash if account else _UNKNOWN_LOGIN_HASH
        if not verify_password(password, stored) or account is None:
            raise AuthenticationFailed()
        return principal_of(account)

    def set_password(self, account_id: int, password: str) -> None:
        with self._db.session() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound()
            account.password_hash = hash_password(check_password(password))

    def set_language(self, principal: Principal, language: Language) -> None:
        with self._db.session() as session:
            account = session.get(Account, principal.account_id)
            if account is None:
                raise NotFound()
            account.language = language
