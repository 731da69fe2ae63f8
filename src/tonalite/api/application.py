"""Mounts the REST API (/v1) on the platform's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from tonalite.api.routes import (
    abbreviated_numbers,
    account,
    auth,
    billing_groups,
    line_options,
    lines,
    numbers,
    screen_lists,
    voicemail,
)
from tonalite.api.routing import unknown_routes
from tonalite.api.security import bearer_authentication
from tonalite.app import Platform


def mount_api(app: FastAPI, platform: Platform) -> None:
    """Add the /v1 routes, the bearer-token dependency and the JSON error handlers."""
    services = platform.services
    authenticated = bearer_authentication(services.sign_in)
    routers = [
        auth.router(services),
        account.router(services, authenticated),
        billing_groups.router(services, authenticated),
        abbreviated_numbers.router(services, authenticated),
        numbers.router(services, authenticated),
        lines.router(platform, authenticated),
        line_options.router(services, authenticated),
        screen_lists.router(services, authenticated),
        voicemail.router(services, authenticated),
    ]
    for router in [*routers, unknown_routes(routers)]:
        app.include_router(router)
