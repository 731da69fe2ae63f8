"""Errors the services raise; each carries a message id and parameters, rendered in the reader's language."""

from __future__ import annotations

from tonalite.i18n import translate
from tonalite.store.models import Language


class ServiceError(Exception):
    code = "error"

    def __init__(self, message_id: str, field: str | None = None, **params: object) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.field = field
        self.params = params

    def message(self, language: Language) -> str:
        return translate(language, self.message_id, **self.params)


class NotFound(ServiceError):
    """The object does not exist or belongs to another account: the two are never told apart."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__("error.not_found")


class InvalidInput(ServiceError):
    code = "invalid"


class InputTooLarge(InvalidInput):
    """An upload over its size limit."""

    code = "too_large"


class UnsupportedFormat(InvalidInput):
    """An upload in a format the platform does not take (a text file sent as a sound)."""

    code = "unsupported_format"


class Conflict(ServiceError):
    code = "conflict"


class AuthenticationFailed(ServiceError):
    code = "unauthorized"

    def __init__(self, message_id: str = "error.unauthorized") -> None:
        super().__init__(message_id)
