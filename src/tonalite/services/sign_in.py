"""API bearer tokens and control-panel sessions: random secrets of which only the SHA-256 is stored."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from tonalite.clock import Clock
from tonalite.services.accounts import principal_of
from tonalite.services.errors import AuthenticationFailed
from tonalite.services.principal import Principal
from tonalite.services.secrets import generate_token, token_hash
from tonalite.store.database import Database
from tonalite.store.models import Account, ApiToken, PanelSession

API_TOKEN_LIFETIME = timedelta(days=30)
# last_used_at is for people ("is this token still in use?"): a minute's precision spares a write per request.
LAST_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str
    csrf_token: str


@dataclass(frozen=True, slots=True)
class ActiveSession:
    principal: Principal
    csrf_token: str


class SignInService:
    def __init__(self, db: Database, clock: Clock, session_lifetime: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._session_lifetime = session_lifetime

    def issue_api_token(self, principal: Principal, label: str = "") -> str:
        token = generate_token()
        now = self._clock.wall()
        with self._db.session() as session:
            session.add(
                ApiToken(
                    account_id=principal.account_id,
                    token_hash=token_hash(token),
                    label=label[:100],
                    created_at=now,
                    expires_at=now + API_TOKEN_LIFETIME,
                )
            )
        return token

    def principal_for_api_token(self, token: str) -> Principal:
        now = self._clock.wall()
        with self._db.session() as session:
            row = session.execute(
                select(ApiToken, Account)
                .join(Account, Account.id == ApiToken.account_id)
                .where(ApiToken.token_hash == token_hash(token), ApiToken.expires_at > now)
            ).first()
            if row is None:
                raise AuthenticationFailed("error.session_expired")
            api_token, account = row
            if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USE_PRECISION:
                api_token.last_used_at = now
            return principal_of(account)

    def open_panel_session(self, principal: Principal) -> OpenedSession:
        opened = OpenedSession(generate_token(), secrets.token_urlsafe(24))
        now = self._clock.wall()
        with self._db.session() as session:
            session.execute(delete(PanelSession).where(PanelSession.expires_at <= now))
            session.add(
                PanelSession(
                    account_id=principal.account_id,
                    token_hash=token_hash(opened.token),
                    csrf_token=opened.csrf_token,
                    created_at=now,
                    expires_at=now + self._session_lifetime,
                )
            )
        return opened

    def panel_session(self, token: str) -> ActiveSession:
        with self._db.session() as session:
            row = session.execute(
                select(PanelSession, Account)
                .join(Account, Account.id == PanelSession.account_id)
                .where(PanelSession.token_hash == token_hash(token), PanelSession.expires_at > self._clock.wall())
            ).first()
            if row is None:
                raise AuthenticationFailed("error.session_expired")
            panel_session, account = row
            return ActiveSession(principal_of(account), panel_session.csrf_token)

    def close_panel_session(self, token: str) -> None:
        with self._db.session() as session:
            session.execute(delete(PanelSession).where(PanelSession.token_hash == token_hash(token)))
