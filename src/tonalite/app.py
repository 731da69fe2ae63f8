"""Composition root: Settings -> database -> services -> HTTP (and, from the SIP issue on, the SIP endpoint)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import uvicorn
from fastapi import FastAPI

from tonalite.clock import Clock, SystemClock
from tonalite.config import Settings
from tonalite.services.accounts import AccountService
from tonalite.services.billing_groups import BillingGroupService
from tonalite.services.demo import DemoService
from tonalite.services.line_options import LineOptionsService
from tonalite.services.lines import LineService
from tonalite.services.numbers import NumberService
from tonalite.services.registrations import RegistrationService
from tonalite.services.sign_in import SignInService
from tonalite.store.database import Database


@dataclass(frozen=True, slots=True)
class Services:
    accounts: AccountService
    sign_in: SignInService
    billing_groups: BillingGroupService
    lines: LineService
    line_options: LineOptionsService
    numbers: NumberService
    registrations: RegistrationService
    demo: DemoService


@dataclass(frozen=True, slots=True)
class Platform:
    settings: Settings
    clock: Clock
    db: Database
    services: Services


def build_platform(settings: Settings, clock: Clock | None = None) -> Platform:
    clock = clock or SystemClock()
    db = Database(settings.effective_database_url)
    accounts = AccountService(db)
    billing_groups = BillingGroupService(db)
    lines = LineService(db, settings.sip_domain)
    numbers = NumberService(db)
    services = Services(
        accounts=accounts,
        sign_in=SignInService(db, clock, timedelta(hours=settings.session_hours)),
        billing_groups=billing_groups,
        lines=lines,
        line_options=LineOptionsService(db, clock),
        numbers=numbers,
        registrations=RegistrationService(db, clock),
        demo=DemoService(db, accounts, billing_groups, lines, numbers),
    )
    return Platform(settings, clock, db, services)


def create_http_app(platform: Platform) -> FastAPI:
    from tonalite.api.application import mount_api
    from tonalite.panel.application import mount_panel

    app = FastAPI(title="Tonalite", version="0.1.0", docs_url="/docs", openapi_url="/openapi.json")
    mount_api(app, platform)
    mount_panel(app, platform)
    return app


async def serve(platform: Platform) -> None:
    """Run every listener of the platform on this loop until cancelled."""
    listen = platform.settings.http_listen
    config = uvicorn.Config(
        create_http_app(platform),
        host=listen.host,
        port=listen.port,
        log_level="info",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    try:
        await server.serve()
    finally:
        platform.db.dispose()


def run(platform: Platform) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(platform))
    else:
        uvloop.run(serve(platform))
