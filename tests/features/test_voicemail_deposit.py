"""Taking a message, over a real media session on 127.0.0.1 facing the fake RTP phone: the caller hears the
greeting (the real prompts, the line's number read in pairs) and the beep, speaks, and the message is stored
with what was said; greeting-only mode, the # key, and a caller who hangs up too soon; the owner's greetings of
each type, and the default greeting when the owner's cannot be played."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.api.customers import ALICE_LINE, Customer, open_account
from tests.conftest import make_platform
from tests.peers.rtp_phone import HOST, WAIT, Rig, dominant_frequency, loopback_rig, tone
from tonalite.app import Platform
from tonalite.calls.media_port import MediaPort
from tonalite.clock import ManualClock
from tonalite.features.spoken import spoken_phone_number
from tonalite.features.voicemail import VoicemailDeposit
from tonalite.media.g711 import PCMU, SAMPLE_RATE
from tonalite.media.jitter import FRAME_SAMPLES
from tonalite.media.wav import read_wav, write_wav
from tonalite.net.media_session import MediaSession
from tonalite.prompts import prompt_path
from tonalite.store.models import GreetingType, Language, VoicemailMessage

BEEP_HZ = 880.0
CALLER = "+33999005555"


class _Notices:
    def __init__(self) -> None:
        self.messages: list[int] = []

    async def new_message(self, message_id: int) -> None:
        self.messages.append(message_id)


@pytest.fixture
def platform(sqlite_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Platform]:
    """SQLite only: the store's side of a deposit is tested on both backends in tests/services."""
    built = make_platform(sqlite_url, tmp_path, clock)
    yield built
    built.db.dispose()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with loopback_rig() as opened:
        yield opened


def _short_prompts(directory: Path) -> Path:
    """A 0.1 s, 440 Hz sound standing for every prompt, so that a test does not wait for sentences."""
    path = directory / "prompt.wav"
    write_wav(path, tone(SAMPLE_RATE // 10, frequency=440.0))
    return path


def _is_beep(frame: np.ndarray) -> bool:
    """A 20 ms frame whose energy is nearly all at the beep's frequency (speech never is)."""
    power = np.abs(np.fft.rfft(frame.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(len(frame), 1 / SAMPLE_RATE)
    total = float(power.sum())
    return total > 0 and float(power[np.abs(frequencies - BEEP_HZ) <= 100].sum()) / total > 0.9


async def _hear_the_greeting_and_the_beep(rig: Rig) -> np.ndarray:
    """What the phone hears before the beep, once the beep is over (the recording starts then)."""
    heard: list[np.ndarray] = []
    beeping = False
    async with asyncio.timeout(30):
        while True:
            _, packet = await rig.phone.next_rtp()
            frame = PCMU.decode(packet.payload)
            if _is_beep(frame):
                beeping = True
            elif beeping:
                return np.concatenate(heard) if heard else np.zeros(0, np.int16)
            else:
                heard.append(frame)


async def _line(platform: Platform) -> tuple[int, Customer]:
    alice = open_account(platform, "alice", ALICE_LINE)
    line = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE)
    return line.id, alice


async def _start(
    rig: Rig, deposit: VoicemailDeposit, platform: Platform
) -> tuple[MediaSession, asyncio.Task[int | None]]:
    line_id, _ = await _line(platform)
    box = await deposit.takes_messages(line_id)
    assert box is not None
    session = await rig.open_session()
    task = asyncio.create_task(deposit.take_message(MediaPort(session), box, line_id, ALICE_LINE, CALLER))
    return session, task


def _stored(platform: Platform) -> list[VoicemailMessage]:
    with platform.db.session() as session:
        return list(session.query(VoicemailMessage).all())


async def test_the_caller_hears_the_greeting_and_the_beep_then_is_recorded(rig: Rig, platform: Platform) -> None:
    notices = _Notices()
    deposit = VoicemailDeposit(platform.services.voicemail, notices)
    session, task = await _start(rig, deposit, platform)

    heard = await _hear_the_greeting_and_the_beep(rig)
    spoken = ["voicemail_greeting_start", *spoken_phone_number(ALICE_LINE, Language.FR), "voicemail_greeting_end"]
    greeting = np.concatenate([read_wav(prompt_path("fr", prompt_id)) for prompt_id in spoken])
    expected = PCMU.decode(PCMU.encode(greeting))
    assert abs(len(heard) - len(expected)) <= FRAME_SAMPLES  # the last frame is padded
    length = min(len(heard), len(expected))
    correlation = np.corrcoef(heard[:length].astype(float), expected[:length].astype(float))[0, 1]
    assert correlation > 0.99

    said = tone(2 * SAMPLE_RATE, frequency=1000.0)
    await rig.phone.send(rig.phone.audio(said), (HOST, session.port)).finished()
    session.close()  # the caller hangs up
    message_id = await asyncio.wait_for(task, WAIT)
    (message,) = _stored(platform)
    assert (message.id, message.caller, message.complete) == (message_id, CALLER, True)
    assert 1.85 <= message.duration_ms / 1000 <= 2.0
    recorded = read_wav(platform.services.voicemail.audio_path(message.box_id, message.id))
    assert abs(dominant_frequency(recorded) - 1000.0) < 10
    assert notices.messages == [message_id]


async def test_the_hash_key_ends_the_message_and_the_caller_hears_goodbye(
    rig: Rig, platform: Platform, tmp_path: Path
) -> None:
    prompt = _short_prompts(tmp_path)
    deposit = VoicemailDeposit(platform.services.voicemail, _Notices(), prompts=lambda language, prompt_id: prompt)
    session, task = await _start(rig, deposit, platform)
    await _hear_the_greeting_and_the_beep(rig)
    phone = rig.phone
    await phone.send(phone.audio(tone(SAMPLE_RATE * 3 // 2)) + phone.press("#"), (HOST, session.port)).finished()
    message_id = await asyncio.wait_for(task, WAIT)  # ended by #, then the goodbye was played: no hang-up needed
    assert message_id is not None
    (message,) = _stored(platform)
    assert 1.4 <= message.duration_ms / 1000 <= 1.5


async def test_greeting_only_takes_no_message(rig: Rig, platform: Platform, tmp_path: Path) -> None:
    prompt = _short_prompts(tmp_path)
    alice_line_id, alice = await _line(platform)
    platform.services.voicemail_settings.update(alice.principal, alice.group, ALICE_LINE, {"do_not_record": True})
    deposit = VoicemailDeposit(platform.services.voicemail, _Notices(), prompts=lambda language, prompt_id: prompt)
    box = await deposit.takes_messages(alice_line_id)
    assert box is not None and box.do_not_record
    session = await rig.open_session()
    assert (
        await asyncio.wait_for(deposit.take_message(MediaPort(session), box, alice_line_id, ALICE_LINE, CALLER), WAIT)
        is None
    )
    assert _stored(platform) == []


async def test_a_caller_who_hangs_up_right_after_the_beep_leaves_no_message(
    rig: Rig, platform: Platform, tmp_path: Path
) -> None:
    prompt = _short_prompts(tmp_path)
    notices = _Notices()
    deposit = VoicemailDeposit(platform.services.voicemail, notices, prompts=lambda language, prompt_id: prompt)
    session, task = await _start(rig, deposit, platform)
    await _hear_the_greeting_and_the_beep(rig)
    await rig.phone.send(rig.phone.audio(tone(SAMPLE_RATE // 2)), (HOST, session.port)).finished()
    session.close()
    assert await asyncio.wait_for(task, WAIT) is None
    assert _stored(platform) == []
    assert notices.messages == []


class _SpokenPrompts:
    """Every prompt as the same 0.1 s sound, keeping the ids asked for: which sentences the caller heard."""

    def __init__(self, directory: Path) -> None:
        self.path = _short_prompts(directory)
        self.asked: list[str] = []

    def __call__(self, language: str, prompt_id: str) -> Path:
        self.asked.append(prompt_id)
        return self.path


def _record_greeting(platform: Platform, line_id: int, kind: GreetingType, directory: Path) -> np.ndarray:
    """A 1 s, 700 Hz greeting kept as the line's (and selected), as the 123 menu keeps one."""
    recording = tone(SAMPLE_RATE, frequency=700.0)
    path = directory / f"{kind.value}-recorded.wav"
    write_wav(path, recording)
    assert platform.services.voicemail_greetings.keep_recording(line_id, kind, path)
    return recording


def _assert_heard(heard: np.ndarray, expected: np.ndarray) -> None:
    expected = PCMU.decode(PCMU.encode(expected))
    assert abs(len(heard) - len(expected)) <= FRAME_SAMPLES  # the last frame is padded
    length = min(len(heard), len(expected))
    assert np.corrcoef(heard[:length].astype(float), expected[:length].astype(float))[0, 1] > 0.99


async def _hear(rig: Rig, samples: int) -> np.ndarray:
    """The next `samples` the phone hears (whole frames): a greeting followed by no beep."""
    frames = [PCMU.decode((await rig.phone.next_rtp())[1].payload) for _ in range(-(-samples // FRAME_SAMPLES))]
    return np.concatenate(frames)


async def _greeted_deposit(
    rig: Rig, platform: Platform, tmp_path: Path, kind: GreetingType, *, greeting_only: bool = False
) -> tuple[np.ndarray, _SpokenPrompts, MediaSession, asyncio.Task[int | None]]:
    """Alice's box with a recorded greeting of `kind` selected; the call is taken, the greeting playing."""
    line_id, alice = await _line(platform)
    recording = _record_greeting(platform, line_id, kind, tmp_path)
    if greeting_only:
        platform.services.voicemail_settings.update(alice.principal, alice.group, ALICE_LINE, {"do_not_record": True})
    prompts = _SpokenPrompts(tmp_path)
    deposit = VoicemailDeposit(platform.services.voicemail, _Notices(), prompts=prompts)
    box = await deposit.takes_messages(line_id)
    assert box is not None
    session = await rig.open_session()
    task = asyncio.create_task(deposit.take_message(MediaPort(session), box, line_id, ALICE_LINE, CALLER))
    return recording, prompts, session, task


@pytest.mark.parametrize("kind", [GreetingType.FULL, GreetingType.TEMPORARY])
async def test_a_full_or_temporary_greeting_is_the_recording_alone_then_the_beep(
    rig: Rig, platform: Platform, tmp_path: Path, kind: GreetingType
) -> None:
    recording, prompts, session, task = await _greeted_deposit(rig, platform, tmp_path, kind)
    _assert_heard(await _hear_the_greeting_and_the_beep(rig), recording)
    assert prompts.asked == []
    await rig.phone.send(rig.phone.audio(tone(SAMPLE_RATE * 3 // 2)), (HOST, session.port)).finished()
    session.close()
    assert await asyncio.wait_for(task, WAIT) is not None  # a message is taken after it


async def test_a_short_greeting_says_the_recorded_name_in_the_default_sentences(
    rig: Rig, platform: Platform, tmp_path: Path
) -> None:
    recording, prompts, session, task = await _greeted_deposit(rig, platform, tmp_path, GreetingType.SHORT)
    sentence = read_wav(prompts.path)
    _assert_heard(await _hear_the_greeting_and_the_beep(rig), np.concatenate([sentence, recording, sentence]))
    assert prompts.asked == ["voicemail_greeting_start", "voicemail_greeting_end"]
    session.close()
    assert await asyncio.wait_for(task, WAIT) is None


@pytest.mark.parametrize(
    ("kind", "sentences"),
    [(GreetingType.FULL, []), (GreetingType.SHORT, ["voicemail_greeting_start", "voicemail_greeting_no_message"])],
)
async def test_greeting_only_plays_the_recording_and_no_beep(
    rig: Rig, platform: Platform, tmp_path: Path, kind: GreetingType, sentences: list[str]
) -> None:
    recording, prompts, _, task = await _greeted_deposit(rig, platform, tmp_path, kind, greeting_only=True)
    sentence = read_wav(prompts.path)
    expected = np.concatenate([sentence, recording, sentence]) if sentences else recording
    _assert_heard(await _hear(rig, len(expected)), expected)
    assert await asyncio.wait_for(task, WAIT) is None  # returned without the beep: the call core hangs up
    assert prompts.asked == sentences
    assert _stored(platform) == []


@pytest.mark.parametrize("damage", ["deleted", "not a wav"])
async def test_a_greeting_that_cannot_be_played_gives_way_to_the_default_one(
    rig: Rig, platform: Platform, tmp_path: Path, damage: str
) -> None:
    line_id, _ = await _line(platform)
    _record_greeting(platform, line_id, GreetingType.FULL, tmp_path)
    prompts = _SpokenPrompts(tmp_path)
    deposit = VoicemailDeposit(platform.services.voicemail, _Notices(), prompts=prompts)
    box = await deposit.takes_messages(line_id)
    assert box is not None and box.greeting is not None
    if damage == "deleted":
        box.greeting.unlink()
    else:
        box.greeting.write_bytes(b"ID3 not a wav file")
    session = await rig.open_session()
    task = asyncio.create_task(deposit.take_message(MediaPort(session), box, line_id, ALICE_LINE, CALLER))
    spoken = ["voicemail_greeting_start", *spoken_phone_number(ALICE_LINE, Language.FR), "voicemail_greeting_end"]
    _assert_heard(await _hear_the_greeting_and_the_beep(rig), np.concatenate([read_wav(prompts.path)] * len(spoken)))
    assert prompts.asked == spoken
    session.close()
    assert await asyncio.wait_for(task, WAIT) is None
