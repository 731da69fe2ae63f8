"""Checks of free-text fields shared by every service."""

from __future__ import annotations

import re

from tonalite.services.errors import InvalidInput

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9._-]{3,64}")
EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
MIN_PASSWORD_LENGTH = 8


def check_login(login: str, field: str = "login") -> str:
    if not LOGIN_PATTERN.fullmatch(login):
        raise InvalidInput("error.login_invalid", field)
    return login


def check_email(email: str, field: str = "contact_email") -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL_PATTERN.fullmatch(email):
        raise InvalidInput("error.email_invalid", field, value=email[:254])
    return email


def check_password(password: str, field: str = "password") -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("error.password_too_short", field, min=MIN_PASSWORD_LENGTH)
    return password


def check_text(text: str, max_length: int, field: str) -> str:
    text = text.strip()
    if len(text) > max_length or any(ord(c) < 32 for c in text):
        raise InvalidInput(
            "error.text_too_long" if len(text) > max_length else "error.value_invalid", field, max=max_length
        )
    return text
