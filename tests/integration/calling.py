"""Placing calls between the site's lines with sipp, and reading what sipp and the server saw of them.

Register a line's phone from the port its sipp UAS will answer on, call from line 0 with digest credentials,
then poll the call records, which the server writes in batches after the calls end. Also: the messages a sipp
run sent and received, from its -trace_msg log.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from tests.integration.conftest import POLL_TIMEOUT_S, Site
from tests.peers.sipp import Sipp, run_sipp, users_file
from tests.peers.tonalite_server import free_port
from tonalite.services.lines import LineCredentials
from tonalite.services.numbering import format_national
from tonalite.store.models import CallRecord, Line, LineOptions, VoicemailBox


def national(line: LineCredentials) -> str:
    return format_national(line.number).replace(" ", "")


def register(site: Site, index: int, port: int | None = None) -> int:
    """Register line `index` from `port` (the port its phone will answer calls on); returns the port."""
    port = port or free_port()
    users = users_file(site.work_dir / f"line{index}", [site.lines[index]])
    run = run_sipp("register", site.server.sip_port, users, users.parent, keys={"expires": "600"}, local_port=port)
    assert run.all_passed, run.output
    site.wait_registrations(index, bool)
    return port


def limit_calls(site: Site, index: int, limit: int) -> None:
    """Line `index` takes at most `limit` calls at once."""
    _update(site, update(Line).where(Line.number == site.lines[index].number).values(simultaneous_calls=limit))


def set_voicemail(site: Site, index: int, active: bool) -> None:
    """Turn line `index`'s voicemail on or off (on by default: it takes the calls the line cannot)."""
    _update(site, update(VoicemailBox).where(VoicemailBox.line_id == _line_id(site, index)).values(active=active))


def set_line_options(site: Site, index: int, **values: object) -> None:
    """Set line `index`'s options (LineOptions columns), e.g. how long its phone rings before its voicemail
    answers (`forward_no_reply_delay`), or CLIR (`identification_restriction`)."""
    _update(site, update(LineOptions).where(LineOptions.line_id == _line_id(site, index)).values(**values))


def _line_id(site: Site, index: int) -> Any:
    return select(Line.id).where(Line.number == site.lines[index].number).scalar_subquery()


def _update(site: Site, statement: Any) -> None:
    platform = site.server.platform
    with platform.db.session() as session:
        session.execute(statement)
    platform.db.dispose()


def caller(site: Site, scenario: str, dialled: str, line: int = 0, **options: object) -> Sipp:
    """Line `line`'s phone (0 by default), about to play `scenario` towards `dialled` (a sipp -sf scenario of
    tests/sipp)."""
    users = users_file(site.work_dir / f"line{line}", [site.lines[line]])
    return Sipp(
        scenario,
        site.server.sip_port,
        users.parent,
        users,
        keys={"dialled": dialled},
        extra=["-auth_uri", f"{dialled}@{site.lines[line].domain}"],
        **options,  # type: ignore[arg-type]
    )


def dial_code(site: Site, code: str) -> None:
    """Line 0's phone dials a star code (`*33*1234#`): the node answers, speaks, and hangs up."""
    call = caller(site, "call_uac_answered_by_node", code.replace("#", "%23"), timeout_s=30)
    call.extra += ["-mp", str(free_port())]
    run = call.run()
    assert run.all_passed, run.output


def voicemail_caller(
    site: Site, index: int, talk_ms: int, scenario: str = "call_uac_voicemail", timeout_s: float = 60
) -> Sipp:
    """Line 0 calls line `index`, whose voicemail will answer, and sends a 1 kHz tone (a µ-law WAV made with
    sox) for `talk_ms` once answered: the greeting, the beep, then the message; `scenario` says how it ends."""
    tone = site.work_dir / "line0" / "tone-1khz-ulaw.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-e", "mu-law", str(tone), "synth", "30", "sine", "1000"], check=True
    )
    call = caller(
        site,
        scenario,
        national(site.lines[index]),
        substitutions={"TONE": str(tone), "TALK_MS": str(talk_ms)},
        timeout_s=timeout_s,
    )
    call.extra += ["-mp", str(free_port())]
    return call


def place_call(
    site: Site, caller_scenario: str, callee_scenario: str, callee_port: int, dialled: str = "", trace: bool = False
) -> tuple[Sipp, Sipp]:
    """Line 0 calls line 1, whose phone (a sipp UAS on `callee_port`) plays `callee_scenario`: both must pass.
    Returns the caller's and the callee's sipp, whose messages `received` reads if `trace`."""
    traced = ["-trace_msg"] if trace else []
    callee = Sipp(
        callee_scenario, site.server.sip_port, site.work_dir / "line1", local_port=callee_port, extra=[*traced]
    ).start()
    calling = caller(site, caller_scenario, dialled or national(site.lines[1]))
    calling.extra += traced
    placed = calling.run()
    answered = callee.finish()
    assert placed.all_passed, placed.output
    assert answered.all_passed, answered.output
    return calling, callee


def call_records(site: Site, count: int = 0) -> list[CallRecord]:
    """The call records, once at least `count` are there (bounded poll); all there are now, by default."""
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while True:
        platform = site.server.platform
        try:
            with platform.db.session() as session:
                records = list(session.scalars(select(CallRecord).order_by(CallRecord.id)))
        finally:
            platform.db.dispose()
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


@dataclass(frozen=True, slots=True)
class TracedMessage:
    """One SIP message in a sipp -trace_msg log: whether sipp received or sent it, and its parts."""

    received: bool
    start_line: str
    headers: dict[str, str]
    """The first value of each header, by lower-case name."""
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


_ENTRY = re.compile(r"^-{20,}[^\n]*\n([^\n]*)\n\n", re.MULTILINE)
"""An entry of the log: a line of dashes (and a time), a title, a blank line, then the message. Titles read
`UDP message received [N] bytes :`, `UDP message sent (N bytes):`, or `Unexpected UDP message received:`
for a message the scenario did not expect (logged a second time)."""
_TITLE = re.compile(r"^(?:UDP|TCP|TLS) message (received|sent) ")


def traced_messages(run: Sipp) -> list[TracedMessage]:
    """What a finished sipp run with -trace_msg sent and received, in order."""
    assert "-trace_msg" in run.extra
    text = run.messages_log.read_bytes().decode("utf-8", errors="replace")
    entries = list(_ENTRY.finditer(text))
    messages = []
    for entry, following in zip(entries, [*entries[1:], None], strict=True):
        title = _TITLE.match(entry.group(1))
        if title is None:
            continue
        raw = text[entry.end() : following.start() if following is not None else len(text)]
        head, _, body = raw.partition("\r\n\r\n")
        start_line, *lines = head.split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        length = int(headers.get("content-length") or 0)
        messages.append(
            TracedMessage(title.group(1) == "received", start_line.strip(), headers, body.encode()[:length])
        )
    return messages


def received(run: Sipp, start: str, cseq: str | None = None) -> list[TracedMessage]:
    """The messages `run` received whose start line begins with `start` (and whose CSeq is `cseq`)."""
    return [
        message
        for message in traced_messages(run)
        if message.received and message.start_line.startswith(start) and cseq in (None, message.header("CSeq"))
    ]
