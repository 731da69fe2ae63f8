"""Who is browsing: the session cookie, the CSRF token every form carries, and the language pages are in.

Language resolution: the `tonalite_lang` cookie, else the signed-in account's language, else French.
Forms of a signed-in visitor carry the session's CSRF token; the forms shown before signing in (sign-in,
language) carry a random token that is also kept in a cookie of its own, and must match it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Header, Request, Response

from tonalite.i18n import DEFAULT_LANGUAGE, parse_language
from tonalite.services.errors import AuthenticationFailed
from tonalite.services.principal import Principal
from tonalite.services.secrets import generate_token
from tonalite.services.sign_in import ActiveSession, SignInService
from tonalite.store.models import Language

SESSION_COOKIE = "tonalite_session"
LANGUAGE_COOKIE = "tonalite_lang"
FORM_COOKIE = "tonalite_form"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


class SignInRequired(Exception):
    """The page needs a signed-in visitor; `expired` when the browser held a session that is no longer valid."""

    def __init__(self, expired: bool) -> None:
        super().__init__("sign-in required")
        self.expired = expired


class CsrfRefused(Exception):
    """A form came without the token of the visitor's session."""


@dataclass(frozen=True, slots=True)
class Visitor:
    language: Language
    csrf_token: str
    principal: Principal | None
    secure: bool
    """The request came over https: cookies get the Secure flag."""
    new_form_token: bool
    """The signed-out form token was just made: the page that shows it must also set its cookie."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    visitor: Visitor
    principal: Principal


class PanelSessions:
    """FastAPI dependencies that tell who is browsing, and the cookies that remember it."""

    def __init__(self, sign_in: SignInService) -> None:
        self._sign_in = sign_in

    def visitor(self, request: Request) -> Visitor:
        active = self._active_session(request)
        chosen = parse_language(request.cookies.get(LANGUAGE_COOKIE))
        language = chosen or (active.principal.language if active else DEFAULT_LANGUAGE)
        secure = request.url.scheme == "https"
        if active is not None:
            return Visitor(language, active.csrf_token, active.principal, secure, new_form_token=False)
        form_token = request.cookies.get(FORM_COOKIE)
        return Visitor(language, form_token or generate_token(), None, secure, new_form_token=form_token is None)

    def signed_in(self, request: Request) -> SignedIn:
        visitor = self.visitor(request)
        if visitor.principal is None:
            raise SignInRequired(expired=SESSION_COOKIE in request.cookies)
        return SignedIn(visitor, visitor.principal)

    def visitor_form(
        self,
        request: Request,
        csrf_token: Annotated[str, Form()] = "",
        header_token: Annotated[str, Header(alias=CSRF_HEADER)] = "",
    ) -> Visitor:
        visitor = self.visitor(request)
        _check_csrf(csrf_token or header_token, visitor.csrf_token)
        return visitor

    def signed_in_form(
        self,
        request: Request,
        csrf_token: Annotated[str, Form()] = "",
        header_token: Annotated[str, Header(alias=CSRF_HEADER)] = "",
    ) -> SignedIn:
        member = self.signed_in(request)
        _check_csrf(csrf_token or header_token, member.visitor.csrf_token)
        return member

    def close(self, request: Request) -> None:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            self._sign_in.close_panel_session(token)

    def _active_session(self, request: Request) -> ActiveSession | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        try:
            return self._sign_in.panel_session(token)
        except AuthenticationFailed:
            return None


def _check_csrf(submitted: str, expected: str) -> None:
    if not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise CsrfRefused()


def keep_session(response: Response, visitor: Visitor, token: str) -> None:
    """The session cookie lasts as long as the browser session; the server expires the session itself."""
    _set_cookie(response, visitor, SESSION_COOKIE, token)


def forget_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")


def keep_language(response: Response, visitor: Visitor, language: Language) -> None:
    _set_cookie(response, visitor, LANGUAGE_COOKIE, language.value, LANGUAGE_COOKIE_SECONDS)


def keep_form_token(response: Response, visitor: Visitor) -> None:
    if visitor.new_form_token:
        _set_cookie(response, visitor, FORM_COOKIE, visitor.csrf_token)


def _set_cookie(response: Response, visitor: Visitor, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, secure=visitor.secure, httponly=True, samesite="lax")


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"
