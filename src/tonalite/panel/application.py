"""Mounts the web control panel (/) on the platform's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tonalite.app import Platform
from tonalite.panel.routing import Panel
from tonalite.panel.session import PanelSessions
from tonalite.panel.templating import PanelTemplates
from tonalite.panel.views import abbreviated_numbers, call_handling, lines, sign_in, telephony, voicemail


def mount_panel(app: FastAPI, platform: Platform) -> None:
    """Add the panel's pages, its static files and its session-cookie sign-in."""
    panel = Panel(
        services=platform.services,
        sip_domain=platform.settings.sip_domain,
        templates=PanelTemplates(),
        sessions=PanelSessions(platform.services.sign_in),
    )
    for view in (sign_in, telephony, abbreviated_numbers, lines, call_handling, voicemail):
        app.include_router(view.routes(panel))
    app.mount("/static", StaticFiles(packages=[("tonalite.panel", "static")]), name="panel_static")
