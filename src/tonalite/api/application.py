"""Mounts the REST API (/v1) on the platform's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from tonalite.app import Platform


def mount_api(app: FastAPI, platform: Platform) -> None:
    """Add the /v1 routes, the bearer-token dependency and the JSON error handlers."""
