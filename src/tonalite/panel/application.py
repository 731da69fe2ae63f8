"""Mounts the web control panel (/) on the platform's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from tonalite.app import Platform


def mount_panel(app: FastAPI, platform: Platform) -> None:
    """Add the panel's pages, its static files and its session-cookie sign-in."""
