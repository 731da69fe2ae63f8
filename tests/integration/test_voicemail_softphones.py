"""The voicemail end to end with two real softphones (headless baresip), a real SMTP server and the REST API.

The caller's phone (line 0) calls the owner's (line 1), which rings without answering; at the line's no-reply
delay the voicemail answers, and the caller hears the greeting (told by correlating what it received with the
prompt files) then sends a 1 kHz tone and hangs up. The message is in the API, the owner's phone (subscribed
through baresip's mwi module) gets `Messages-Waiting: yes`, and the box's recipient an email with the WAV.
Then the owner dials 123, hears the count, presses 1 (RFC 4733), hears the message, presses 3 to delete it,
and the NOTIFY says `no` again.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
import wave
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest
from aiosmtpd.controller import Controller

from tests.integration.calling import national, set_line_options
from tests.integration.conftest import Site, _site
from tests.integration.test_softphones import analyse, samples_of, server_log_on_failure
from tests.peers.baresip import SAMPLE_RATE, TONE_AMPLITUDE, Baresip
from tests.peers.tonalite_server import ACCOUNT_LOGIN, ACCOUNT_PASSWORD, free_port
from tonalite.features.spoken import spoken_phone_number
from tonalite.features.voicemail_menu import spoken_counts
from tonalite.media.wav import read_wav
from tonalite.prompts import BEEP, prompt_path
from tonalite.sip.message_summary import MessageSummary
from tonalite.store.models import Language

NO_REPLY_S = 5
"""The shortest no-reply delay a line may have."""
LATE_S = 3.0
"""How much later than due the voicemail may answer or a prompt be heard on a loaded machine."""
EARLY_S = 0.1
"""How much sooner than due the voicemail may answer: uvloop (libuv) counts a timer from the time it cached when
its loop iteration began, not from when the timer is set."""
TONE_HZ = 1000.0
TONE_S = 5.0
AFTER_BEEP_S = 0.5
"""The caller starts its tone this long after the beep is due, for the call set-up's and the jitter
buffer's delays: the tone must all be in the message."""
END_OF_FILE_CHECK_S = 1.0
"""baresip's aufile looks for the end of its file (and ends the call) every second: silence until then."""
ANNOUNCEMENT_S = 10.0
"""At most what the menu says before a message: "message de" line 0's number "reçu le" day, date, month "à"
hour "heures" minutes (9.9 s at the longest)."""
MATCH = 0.9
"""The normalised cross-correlation that tells a prompt heard through G.711 from anything else."""
OWNER_EMAIL = "owner@acme.example"
HTTP_TIMEOUT_S = 10.0
MAIL_TIMEOUT_S = 10.0
POLL_S = 0.1
FRAME_S = 0.020
"""The media's frame: a prompt ending within one is followed by silence to its end."""

Samples = npt.NDArray[np.float64]


class Mailbox:
    """An aiosmtpd handler keeping the emails it receives on `port`, for a test to wait for them."""

    def __init__(self) -> None:
        self.port = free_port()
        self._received: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._arrived:
            self._received.append(parsed)
            self._arrived.notify_all()
        return "250 OK"

    def wait_for_mail(self, timeout: float = MAIL_TIMEOUT_S) -> list[EmailMessage]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: bool(self._received), timeout), f"no email within {timeout} s"
            return list(self._received)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def voicemail_site(sqlite_template: Path, tmp_path: Path, mailbox: Mailbox) -> Iterator[Site]:
    """The server as baresip 1.0 needs it (MD5 challenges only: see test_softphones), mailing through the
    test's SMTP server."""
    environment = {
        "TONALITE_SIP_DIGEST_ALGORITHMS": "MD5",
        "TONALITE_SMTP_HOST": "127.0.0.1",
        "TONALITE_SMTP_PORT": str(mailbox.port),
    }
    yield from _site(sqlite_template, tmp_path, environment)


@pytest.fixture
def owner_voicemail(voicemail_site: Site) -> Iterator[httpx.Client]:
    """The REST API signed in as the site's account, its relative paths under line 1's voicemail."""
    site = voicemail_site
    credentials = {"login": ACCOUNT_LOGIN, "password": ACCOUNT_PASSWORD}
    token = httpx.post(f"{site.server.http_url}/v1/auth/token", json=credentials, timeout=HTTP_TIMEOUT_S)
    number = site.lines[1].number.removeprefix("+")
    with httpx.Client(
        base_url=f"{site.server.http_url}/v1/billing-groups/{site.group_id}/lines/{number}/voicemail/",
        headers={"Authorization": f"Bearer {token.json()['token']}"},
        timeout=HTTP_TIMEOUT_S,
    ) as client:
        yield client


def prompts(language: str, prompt_ids: list[str]) -> Samples:
    """What the platform plays for these prompts, one after another, as samples in [-1, 1)."""
    return np.concatenate([read_wav(prompt_path(language, prompt_id)) for prompt_id in prompt_ids]) / 32768.0


def default_greeting(number: str) -> Samples:
    """The default greeting of a French account's line, before the beep."""
    return prompts(
        "fr", ["voicemail_greeting_start", *spoken_phone_number(number, Language.FR), "voicemail_greeting_end"]
    )


def write_microphone(path: Path, silence_s: float) -> Path:
    """The caller's side: silence while the greeting plays, then TONE_S of the tone; the call ends with it."""
    tone = TONE_AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * np.arange(int(TONE_S * SAMPLE_RATE)) / SAMPLE_RATE)
    samples = np.concatenate([np.zeros(int(silence_s * SAMPLE_RATE)), tone])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(np.round(samples * 32767).astype("<i2").tobytes())
    return path


def best_match(heard: Samples, template: Samples) -> tuple[float, float]:
    """Where `template` is heard best in `heard` (seconds), and how well: the normalised cross-correlation,
    1.0 for the very same samples at any volume. Windows much quieter than the template do not match."""
    if len(heard) < len(template):
        return 0.0, 0.0
    size = 1 << (len(heard) + len(template)).bit_length()
    correlation = np.fft.irfft(np.fft.rfft(heard, size) * np.conj(np.fft.rfft(template, size)), size)
    correlation = correlation[: len(heard) - len(template) + 1]
    energy = np.concatenate([[0.0], np.cumsum(heard**2)])
    window = energy[len(template) :] - energy[: -len(template)]
    template_energy = float(np.sum(template**2))
    score = correlation / np.sqrt(np.maximum(window, template_energy / 100) * template_energy)
    best = int(np.argmax(score))
    return float(score[best]), best / SAMPLE_RATE


def heard_in_call(phone: Baresip, earlier: set[Path]) -> Samples:
    """What the phone has received so far in its call: the recording not in `earlier` (none yet: nothing)."""
    recording = [path for path in phone.recordings("dec") if path not in earlier]
    if not recording:
        return np.zeros(0)
    (path,) = recording
    return np.frombuffer(Baresip.recorded_so_far(path), dtype="<i2") / 32768.0


def wait_to_hear(phone: Baresip, earlier: set[Path], template: Samples, timeout: float) -> float:
    """Polls what the phone receives in its call until it has heard `template` all through; returns where it
    begins (seconds into the call's audio)."""
    deadline = time.monotonic() + timeout
    score = 0.0
    while time.monotonic() < deadline:
        score, offset = best_match(heard_in_call(phone, earlier), template)
        if score >= MATCH:
            return offset
        time.sleep(POLL_S)
    raise AssertionError(f"{phone.name} did not hear the prompt within {timeout} s (best match {score:.2f})")


@pytest.mark.timeout(120)
def test_a_message_left_from_a_softphone_is_noticed_heard_and_deleted_from_the_owners_phone(
    voicemail_site: Site, mailbox: Mailbox, owner_voicemail: httpx.Client
) -> None:
    site, api = voicemail_site, owner_voicemail
    caller_line, owner_line = site.lines[0], site.lines[1]
    box_account = f"sip:{owner_line.number}@{owner_line.domain}"
    set_line_options(site, 1, forward_no_reply_delay=NO_REPLY_S)
    recipients = {"recipients": [{"email": OWNER_EMAIL, "attachAudio": True}]}
    assert api.patch("settings", json=recipients).status_code == 200
    greeting, beep = default_greeting(owner_line.number), read_wav(BEEP) / 32768.0
    before_tone_s = (len(greeting) + len(beep)) / SAMPLE_RATE + AFTER_BEEP_S
    microphone = write_microphone(site.work_dir / "caller-microphone.wav", before_tone_s)
    port = site.server.sip_port
    with (
        server_log_on_failure(site),
        Baresip("caller", site.work_dir / "caller", caller_line, port, microphone=microphone) as caller,
        Baresip("owner", site.work_dir / "owner", owner_line, port, message_waiting=True) as owner,
    ):
        caller.register()
        owner.register()
        assert MessageSummary.parse(owner.message_summary()) == MessageSummary(0, 0, box_account)

        caller.dial(national(owner_line))
        dialled = time.monotonic()
        owner.wait_for("CALL_INCOMING", fail_on=("CALL_ESTABLISHED",))
        caller.wait_for("CALL_ESTABLISHED", timeout=NO_REPLY_S + LATE_S, fail_on=("CALL_CLOSED",))
        assert time.monotonic() - dialled >= NO_REPLY_S - EARLY_S, "the voicemail answered at the no-reply delay"
        owner.wait_for("CALL_CLOSED", timeout=LATE_S, fail_on=("CALL_ESTABLISHED",))  # cancelled, never answered
        hung_up = caller.wait_for("CALL_CLOSED", timeout=before_tone_s + TONE_S + LATE_S)
        assert hung_up["param"] == "end of file", "the caller hung up at the end of its tone"
        heard_by_caller = heard_in_call(caller, set())
        score, offset = best_match(heard_by_caller, greeting)
        assert score >= MATCH and offset < LATE_S, f"the caller heard the greeting at {offset:.2f} s ({score:.2f})"
        score, beep_at = best_match(heard_by_caller, beep)
        assert score >= MATCH and 0 <= beep_at - offset - len(greeting) / SAMPLE_RATE < FRAME_S, "then the beep"

        left = owner.message_summary()
        assert left.startswith(b"Messages-Waiting: yes\r\n")
        assert MessageSummary.parse(left) == MessageSummary(1, 0, box_account)
        (message,) = api.get("messages").json()["items"]
        assert (message["folder"], message["caller"]) == ("new", caller_line.number)
        audio = api.get(f"messages/{message['id']}/audio")
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        stored = site.work_dir / "message.wav"
        stored.write_bytes(audio.content)
        heard = analyse(stored, TONE_HZ)
        assert abs(heard.seconds - message["duration"]) < 0.05
        assert TONE_S <= heard.seconds <= TONE_S + AFTER_BEEP_S + END_OF_FILE_CHECK_S + 0.5, heard
        assert abs(heard.peak_hz - TONE_HZ) <= 5 and heard.share_near_tone > 0.9, heard
        assert abs(heard.active_seconds - TONE_S) <= 0.2, "the whole tone, sent after the beep, is in it"

        (notice,) = mailbox.wait_for_mail()
        assert notice["To"] == OWNER_EMAIL
        (attachment,) = list(notice.iter_attachments())
        assert attachment.get_content_type() == "audio/wav"
        assert attachment.get_filename() == f"message-{message['id']}.wav"
        assert attachment.get_content() == audio.content

        earlier = set(owner.recordings("dec"))
        owner.dial("123")
        owner.wait_for("CALL_ESTABLISHED", fail_on=("CALL_CLOSED",))
        one_new_message = prompts("fr", spoken_counts(1, 0))
        wait_to_hear(owner, earlier, one_new_message, timeout=len(one_new_message) / SAMPLE_RATE + LATE_S)
        owner.press("1")  # during the main menu
        wait_to_hear(owner, earlier, samples_of(stored)[0], timeout=ANNOUNCEMENT_S + heard.seconds + LATE_S)
        owner.press("3")  # as the message menu begins
        deleted = owner.message_summary()
        assert deleted.startswith(b"Messages-Waiting: no\r\n")
        assert MessageSummary.parse(deleted) == MessageSummary(0, 0, box_account)
        owner.hangup()
        owner.wait_for("CALL_CLOSED")

    assert api.get("messages").json() == {"items": [], "total": 0}
