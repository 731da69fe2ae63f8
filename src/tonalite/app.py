"""Composition root: Settings -> database -> services -> HTTP (and, from the SIP issue on, the SIP endpoint)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import secrets
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import uvicorn
from fastapi import FastAPI

from tonalite import __version__
from tonalite.calls.authentication import RequestAuthenticator
from tonalite.calls.b2bua import B2bua
from tonalite.calls.location import LocationService
from tonalite.calls.message_waiting import CountsInWorkerThreads, MessageWaiting, changes_from_any_thread
from tonalite.calls.recorder import CallRecorder
from tonalite.calls.registrar import ExpiryBounds, Registrar
from tonalite.calls.signalling import Signalling
from tonalite.clock import Clock, SystemClock
from tonalite.collector import schedule_collections
from tonalite.config import Settings
from tonalite.features.announcements import Announcements
from tonalite.features.dialplan import DialPlan
from tonalite.features.star_codes import StarCodes
from tonalite.features.voicemail import VoicemailDeposit
from tonalite.features.voicemail_menu import VoicemailMenu
from tonalite.net.loop_timers import LoopTimers
from tonalite.net.media_relay import MediaRelays
from tonalite.net.media_session import MediaSessions
from tonalite.net.rtp_ports import RtpPortPool
from tonalite.net.sip_transport import SipTransport
from tonalite.scheduler import Scheduler
from tonalite.services.abbreviated_numbers import AbbreviatedNumberService
from tonalite.services.accounts import AccountService
from tonalite.services.billing_groups import BillingGroupService
from tonalite.services.call_records import CallRecordService
from tonalite.services.demo import DemoService
from tonalite.services.line_directory import LineDirectory
from tonalite.services.line_options import LineOptionsService
from tonalite.services.lines import LineService
from tonalite.services.numbers import NumberService
from tonalite.services.outbox import Outbox, SmtpRelay
from tonalite.services.registrations import RegistrationService
from tonalite.services.screen_lists import ScreenListService
from tonalite.services.sign_in import SignInService
from tonalite.services.trunks import TrunkService
from tonalite.services.voicemail import VoicemailService
from tonalite.services.voicemail_access import VoicemailAccess
from tonalite.services.voicemail_greetings import VoicemailGreetingService
from tonalite.services.voicemail_notices import VoicemailNotices
from tonalite.services.voicemail_settings import VoicemailSettingsService
from tonalite.sip.auth import DigestAlgorithm, DigestAuthenticator
from tonalite.sip.endpoint import SipEndpoint
from tonalite.sip.headers import BRANCH_MAGIC
from tonalite.sip.transaction import TimerValues
from tonalite.sip.transport import Transport
from tonalite.store.database import Database

log = logging.getLogger(__name__)

REGISTRATION_SWEEP_S = 15.0
REGISTRATION_FLUSH_S = 0.2
CALL_RECORD_FLUSH_S = 0.5
HISTORY_TRIM_S = 3600.0


@dataclass(frozen=True, slots=True)
class Services:
    accounts: AccountService
    sign_in: SignInService
    billing_groups: BillingGroupService
    lines: LineService
    line_options: LineOptionsService
    screen_lists: ScreenListService
    numbers: NumberService
    abbreviated_numbers: AbbreviatedNumberService
    registrations: RegistrationService
    line_directory: LineDirectory
    call_records: CallRecordService
    trunks: TrunkService
    voicemail: VoicemailService
    voicemail_settings: VoicemailSettingsService
    voicemail_greetings: VoicemailGreetingService
    voicemail_notices: VoicemailNotices
    outbox: Outbox
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
    voicemail = VoicemailService(db, clock, settings.data_dir)
    outbox = Outbox(db, clock, SmtpRelay.of(settings))
    services = Services(
        accounts=accounts,
        sign_in=SignInService(db, clock, timedelta(hours=settings.session_hours)),
        billing_groups=billing_groups,
        lines=lines,
        line_options=LineOptionsService(db, clock),
        screen_lists=ScreenListService(db),
        numbers=numbers,
        abbreviated_numbers=AbbreviatedNumberService(db),
        registrations=RegistrationService(db, clock),
        line_directory=LineDirectory(db),
        call_records=CallRecordService(db, settings.node_name),
        trunks=TrunkService(db),
        voicemail=voicemail,
        voicemail_settings=VoicemailSettingsService(db),
        voicemail_greetings=VoicemailGreetingService(db, settings.data_dir),
        voicemail_notices=VoicemailNotices(db, outbox, voicemail),
        outbox=outbox,
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


def nonce_secret(settings: Settings) -> bytes:
    """The digest nonce secret: from settings (shared by every node), else kept in the data directory."""
    if settings.sip_nonce_secret.get_secret_value():
        return settings.sip_nonce_secret.get_secret_value().encode()
    path = settings.data_dir / "sip-nonce.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(secrets.token_bytes(32))
        temporary.chmod(0o600)
        temporary.replace(path)
    return path.read_bytes()


def _sent_by(settings: Settings) -> Callable[[Transport], str]:
    """The host:port this node writes in its Via headers, per transport: its listen address for it."""
    by_transport: dict[Transport, str] = {}
    for address in settings.sip_listen:
        host = settings.sip_domain if address.host in ("0.0.0.0", "::") else address.host
        host = f"[{host}]" if ":" in host else host
        by_transport.setdefault(address.transport, f"{host}:{address.port}")
    fallback = next(iter(by_transport.values()), settings.sip_domain)
    return lambda transport: by_transport.get(transport, fallback)


def build_sip(platform: Platform, location: LocationService, recorder: CallRecorder) -> SipTransport:
    settings = platform.settings
    endpoint = SipEndpoint(
        sent_by=_sent_by(settings),
        new_branch=lambda: BRANCH_MAGIC + secrets.token_hex(10),
        timers=TimerValues(t1=settings.sip_t1_ms / 1000),
    )
    digest = DigestAuthenticator(
        nonce_secret(settings), algorithms=tuple(DigestAlgorithm(name) for name in settings.sip_digest_algorithms)
    )
    authenticator = RequestAuthenticator(settings.sip_domain, platform.services.line_directory, digest, platform.clock)
    registrar = Registrar(
        location=location,
        authenticator=authenticator,
        clock=platform.clock,
        bounds=ExpiryBounds(
            settings.register_min_expires, settings.register_default_expires, settings.register_max_expires
        ),
        node=settings.node_name,
    )
    transports: list[SipTransport] = []
    rtp_ports = RtpPortPool(*settings.rtp_ports)
    voicemail_access = VoicemailAccess(platform.db, platform.services.voicemail)
    b2bua = B2bua(
        endpoint=endpoint,
        authenticator=authenticator,
        location=location,
        dial_plan=DialPlan(
            platform.services.line_directory,
            platform.services.trunks,
            settings.voicemail_access_number,
            platform.services.abbreviated_numbers,
        ),
        trunks=platform.services.trunks,
        clock=platform.clock,
        timers=LoopTimers(after_each=lambda: transports[0].pump()),
        domain=settings.sip_domain,
        on_call_ended=recorder.record,
        ring_timeout_s=settings.ring_timeout_s,
        voicemail=VoicemailDeposit(platform.services.voicemail, platform.services.voicemail_notices),
        voicemail_menu=VoicemailMenu(voicemail_access, platform.services.voicemail_greetings),
        star_codes=StarCodes(platform.services.line_options),
        announcements=Announcements(voicemail_access.language),
        open_media=MediaSessions(rtp_ports, platform.clock).open,
        media_anchor=settings.media_anchor,
        open_relay=MediaRelays(rtp_ports).open,
    )
    message_waiting = _message_waiting(platform, endpoint, authenticator, location, transports)
    signalling = Signalling(endpoint, registrar, b2bua, message_waiting, platform.clock, f"Tonalite/{__version__}")
    # TLS (RFC 3261 §26.3.1, TLS 1.2 and up): the listeners' context holds the node's certificate; the
    # connections this node opens verify the far end's certificate with the system's CAs.
    tls_client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_client.minimum_version = ssl.TLSVersion.TLSv1_2
    tls = None
    if settings.tls_certificate is not None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            tls.load_cert_chain(settings.tls_certificate, settings.tls_private_key)
        except OSError as error:  # ssl.SSLError too: name the files, which its message does not
            key = settings.tls_private_key or "(in the certificate file)"
            raise OSError(f"TLS certificate {settings.tls_certificate}, key {key}: {error}") from error
    transports.append(
        SipTransport(
            endpoint,
            platform.clock,
            signalling.on_event,
            tls,
            tls_client,
            message_timeout=settings.sip_message_timeout_s,
            max_connections_per_source=settings.sip_max_connections_per_source,
            max_connections=settings.sip_max_connections,
            udp_buffer_bytes=settings.sip_udp_buffer_bytes,
        )
    )
    return transports[0]


def _message_waiting(
    platform: Platform,
    endpoint: SipEndpoint,
    authenticator: RequestAuthenticator,
    location: LocationService,
    transports: list[SipTransport],
) -> MessageWaiting:
    """Message waiting, told of every change of a voicemail box on this node: build it on the running loop."""
    voicemail = platform.services.voicemail
    timers = LoopTimers(after_each=lambda: transports[0].pump())
    message_waiting = MessageWaiting(
        endpoint=endpoint,
        authenticator=authenticator,
        lines=platform.services.line_directory,
        location=location,
        counts=CountsInWorkerThreads(voicemail.counts, timers),
        clock=platform.clock,
        timers=timers,
        domain=platform.settings.sip_domain,
    )
    voicemail.on_change = changes_from_any_thread(asyncio.get_running_loop(), timers, message_waiting.box_changed)
    return message_waiting


GIL_SWITCH_INTERVAL_S = 0.001
"""How long a worker thread (a database write, a file conversion) may hold the interpreter before the loop gets it
back: Python's default, 5 ms, would make every media tick that follows late by as much (the media packets of a
node with 300 calls are due every 20 ms)."""


async def serve(platform: Platform) -> None:
    """Run every listener of the platform on this loop until cancelled: SIP first, then HTTP."""
    registrations = platform.services.registrations
    recovered = platform.services.voicemail.recover_deposits()
    if recovered:
        log.warning("kept %d voicemail messages whose deposit a previous run left unfinished", recovered)
    location = LocationService(registrations)
    location.load()
    recorder = CallRecorder(platform.services.call_records)
    sip = build_sip(platform, location, recorder)
    await sip.start(platform.settings.sip_listen)

    async def expire_registrations() -> None:
        location.expire(platform.clock.wall())

    scheduler = Scheduler()
    schedule_collections(scheduler)
    scheduler.every(REGISTRATION_FLUSH_S, "store registrations", location.flush)
    scheduler.every(CALL_RECORD_FLUSH_S, "store call records", recorder.flush)
    scheduler.every(REGISTRATION_SWEEP_S, "expire registrations", expire_registrations)
    scheduler.every(HISTORY_TRIM_S, "trim registration history", lambda: asyncio.to_thread(registrations.trim_history))
    housekeeping = asyncio.get_running_loop().create_task(scheduler.run_forever())
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
        housekeeping.cancel()
        await sip.stop()
        await location.flush()
        await recorder.flush()
        platform.db.dispose()


def raise_file_limit() -> None:
    """Up to the hard limit: each TCP/TLS phone holds a descriptor, and the connection cap is half the limit
    (a soft limit of 1024, common by default, would cap a node at 512 phones)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run(platform: Platform) -> None:
    raise_file_limit()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(platform))
    else:
        uvloop.run(serve(platform))
