"""Customer accounts: creation by the operator, and sign-in."""

from __future__ import annotations

from sqlalchemy import select

from tonalite.services.errors import AuthenticationFailed, Conflict, NotFound
from tonalite.services.numbering import parse_number
from tonalite.services.principal import Principal
from tonalite.services.secrets import hash_password, verify_password
from tonalite.services.validation import check_email, check_login, check_password, check_text
from tonalite.store.database import Database
from tonalite.store.models import Account, Language

# Verifying against this when the login is unknown makes a wrong login cost the same time as a wrong password.
_UNKNOWN_LOGIN_HASH = hash_password("no account has this password")


def principal_of(account: Account) -> Principal:
    return Principal(account.id, account.login, account.language, account.country)


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
        account = Account(
            login=check_login(login),
            password_hash=hash_password(check_password(password)),
            company_name=check_text(company_name, 200, "company_name"),
            contact_email=check_email(contact_email),
            mobile_number=parse_number(mobile_number, field="mobile_number") if mobile_number else None,
            language=language,
        )
        with self._db.session() as session:
            if session.scalar(select(Account.id).where(Account.login == login)) is not None:
                raise Conflict("error.login_taken", "login", login=login)
            session.add(account)
        return account

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
