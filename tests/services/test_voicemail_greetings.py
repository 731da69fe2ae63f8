"""A box's own greetings on both backends: uploads of any format converted to 8 kHz mono with their length
kept, refused uploads changing nothing, replacement and deletion, a recording kept from the phone, the greeting
the deposit plays, and no access from another account."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.api.customers import ALICE_LINE, BOB_LINE, Customer, open_account
from tests.peers.rtp_phone import dominant_frequency, tone
from tests.sound_files import sox_tone
from tonalite.app import Platform
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import read_wav, write_wav
from tonalite.services.errors import InputTooLarge, InvalidInput, NotFound, UnsupportedFormat
from tonalite.services.voicemail_greetings import MAX_UPLOAD_BYTES, Greeting
from tonalite.store.models import GreetingType, Sound, SoundKind

FULL, SHORT, TEMPORARY = GreetingType.FULL, GreetingType.SHORT, GreetingType.TEMPORARY


def _alice(platform: Platform) -> tuple[Customer, int]:
    customer = open_account(platform, "alice", ALICE_LINE)
    line = platform.services.lines.get(customer.principal, customer.group, ALICE_LINE)
    return customer, line.id


def _upload(platform: Platform, customer: Customer, kind: GreetingType, data: bytes) -> Greeting:
    return platform.services.voicemail_greetings.upload(
        customer.principal, customer.group, ALICE_LINE, kind, io.BytesIO(data)
    )


def _sounds(platform: Platform) -> list[Sound]:
    with platform.db.session() as session:
        return list(session.scalars(select(Sound)))


def _sound_files(platform: Platform) -> list[Path]:
    return sorted((platform.settings.data_dir / "sounds").glob("*"))


@pytest.mark.parametrize(
    ("name", "rate", "channels", "bits"),
    [
        ("cd.wav", 44_100, 2, 16),
        ("studio.wav", 48_000, 1, 24),
        ("phone.mp3", 44_100, 2, 16),
        ("web.ogg", 22_050, 2, 16),
    ],
)
def test_an_upload_is_stored_as_8_khz_mono_with_its_length(
    platform: Platform, tmp_path: Path, name: str, rate: int, channels: int, bits: int
) -> None:
    alice, _ = _alice(platform)
    source = sox_tone(tmp_path / name, 2.0, rate=rate, channels=channels, bits=bits)
    greeting = _upload(platform, alice, FULL, source.read_bytes())

    assert greeting.kind == FULL
    assert 1950 <= greeting.duration_ms <= 2100  # an MP3 encoder pads a few ms
    greetings = platform.services.voicemail_greetings
    path = greetings.audio_path(alice.principal, alice.group, ALICE_LINE, FULL)
    samples = read_wav(path)  # raises unless 8 kHz mono 16-bit PCM
    assert len(samples) * 1000 // SAMPLE_RATE == greeting.duration_ms
    assert abs(dominant_frequency(samples) - 440.0) < 5
    (sound,) = _sounds(platform)
    assert (sound.id, sound.kind, sound.billing_group_id) == (greeting.sound_id, SoundKind.GREETING, alice.group)
    assert (sound.duration_ms, sound.size_bytes) == (greeting.duration_ms, path.stat().st_size)
    assert path == platform.settings.data_dir / "sounds" / f"{sound.id}.wav"
    assert greetings.greetings(alice.principal, alice.group, ALICE_LINE) == {FULL: greeting}
    settings = platform.services.voicemail_settings.get(alice.principal, alice.group, ALICE_LINE)
    assert (settings.greetings, settings.greeting_type) == ((GreetingType.DEFAULT, FULL), GreetingType.DEFAULT)


def test_a_new_upload_replaces_the_old_greeting_and_its_file(platform: Platform, tmp_path: Path) -> None:
    alice, _ = _alice(platform)
    first = _upload(platform, alice, SHORT, sox_tone(tmp_path / "a.wav", 1.5).read_bytes())
    old_file = platform.settings.data_dir / "sounds" / f"{first.sound_id}.wav"
    second = _upload(platform, alice, SHORT, sox_tone(tmp_path / "b.mp3", 2.5, frequency=660).read_bytes())
    assert second.sound_id != first.sound_id
    assert not old_file.exists()
    assert [sound.id for sound in _sounds(platform)] == [second.sound_id]
    assert _sound_files(platform) == [platform.settings.data_dir / "sounds" / f"{second.sound_id}.wav"]


def _truncated_ogg(tmp_path: Path) -> bytes:
    return sox_tone(tmp_path / "cut.ogg", 2.0).read_bytes()[:600]


@pytest.mark.parametrize(
    ("make", "refusal", "message_id"),
    [
        (lambda tmp_path: b"Bonjour, ceci n'est pas un son.\n" * 10, UnsupportedFormat, "error.greeting_not_audio"),
        (_truncated_ogg, InvalidInput, "error.greeting_unreadable"),
        (lambda tmp_path: b"RIFF\x24\x00\x00\x00WAVEfmt ", InvalidInput, "error.greeting_unreadable"),
        (lambda tmp_path: sox_tone(tmp_path / "short.wav", 0.5).read_bytes(), InvalidInput, "error.greeting_length"),
        (
            lambda tmp_path: sox_tone(tmp_path / "long.mp3", 185, rate=8000, channels=1).read_bytes(),
            InvalidInput,
            "error.greeting_length",
        ),
        (lambda tmp_path: b"RIFF" + bytes(MAX_UPLOAD_BYTES), InputTooLarge, "error.greeting_too_large"),
    ],
    ids=["text", "truncated-ogg", "truncated-wav", "too-short", "too-long", "too-large"],
)
def test_a_refused_upload_keeps_the_old_greeting(
    platform: Platform, tmp_path: Path, make: Callable[[Path], bytes], refusal: type[InvalidInput], message_id: str
) -> None:
    alice, _ = _alice(platform)
    kept = _upload(platform, alice, FULL, sox_tone(tmp_path / "kept.wav", 1.2).read_bytes())
    platform.services.voicemail_settings.update(alice.principal, alice.group, ALICE_LINE, {"greeting_type": FULL})
    files = {path: path.read_bytes() for path in _sound_files(platform)}
    with pytest.raises(refusal) as refused:
        _upload(platform, alice, FULL, make(tmp_path))
    assert (refused.value.message_id, refused.value.field) == (message_id, "file")
    greetings = platform.services.voicemail_greetings
    assert greetings.greetings(alice.principal, alice.group, ALICE_LINE) == {FULL: kept}
    assert {path: path.read_bytes() for path in _sound_files(platform)} == files  # no temporary file left either
    assert platform.services.voicemail_settings.get(alice.principal, alice.group, ALICE_LINE).greeting_type == FULL


def test_the_length_bounds_are_said_in_the_error(platform: Platform, tmp_path: Path) -> None:
    alice, _ = _alice(platform)
    with pytest.raises(InvalidInput) as refused:
        _upload(platform, alice, FULL, sox_tone(tmp_path / "short.ogg", 0.4).read_bytes())
    assert refused.value.params == {"min": 1, "max": 180}


def test_deleting_the_selected_greeting_brings_back_the_default_one(platform: Platform, tmp_path: Path) -> None:
    alice, line_id = _alice(platform)
    greetings = platform.services.voicemail_greetings
    temporary = _upload(platform, alice, TEMPORARY, sox_tone(tmp_path / "away.wav", 3).read_bytes())
    _upload(platform, alice, FULL, sox_tone(tmp_path / "full.wav", 2).read_bytes())
    platform.services.voicemail_settings.update(alice.principal, alice.group, ALICE_LINE, {"greeting_type": TEMPORARY})
    box = platform.services.voicemail.deposit_box(line_id)
    assert box is not None and (box.greeting_type, box.greeting) == (
        TEMPORARY,
        platform.settings.data_dir / "sounds" / f"{temporary.sound_id}.wav",
    )

    greetings.delete(alice.principal, alice.group, ALICE_LINE, TEMPORARY)
    greetings.delete(alice.principal, alice.group, ALICE_LINE, TEMPORARY)  # nothing left to delete: no error
    assert set(greetings.greetings(alice.principal, alice.group, ALICE_LINE)) == {FULL}
    assert not (platform.settings.data_dir / "sounds" / f"{temporary.sound_id}.wav").exists()
    box = platform.services.voicemail.deposit_box(line_id)
    assert box is not None and (box.greeting_type, box.greeting) == (GreetingType.DEFAULT, None)
    with pytest.raises(NotFound):
        greetings.audio_path(alice.principal, alice.group, ALICE_LINE, TEMPORARY)


def test_a_recording_from_the_phone_becomes_the_selected_greeting(platform: Platform, tmp_path: Path) -> None:
    alice, line_id = _alice(platform)
    greetings = platform.services.voicemail_greetings
    recorded = tmp_path / "recorded.wav"
    write_wav(recorded, tone(2 * SAMPLE_RATE, frequency=700.0))
    assert greetings.keep_recording(line_id, SHORT, recorded)
    (greeting,) = greetings.greetings(alice.principal, alice.group, ALICE_LINE).values()
    assert (greeting.kind, greeting.duration_ms) == (SHORT, 2000)
    path = greetings.audio_path(alice.principal, alice.group, ALICE_LINE, SHORT)
    assert (read_wav(path) == read_wav(recorded)).all()
    box = platform.services.voicemail.deposit_box(line_id)
    assert box is not None and (box.greeting_type, box.greeting) == (SHORT, path)

    write_wav(recorded, tone(SAMPLE_RATE * 9 // 10))
    assert not greetings.keep_recording(line_id, SHORT, recorded)  # under a second: the greeting stays
    assert not greetings.keep_recording(line_id, FULL, tmp_path / "never-recorded.wav")
    assert greetings.greetings(alice.principal, alice.group, ALICE_LINE) == {SHORT: greeting}
    assert path.exists()


def test_the_greeting_type_can_be_chosen_only_once_recorded(platform: Platform, tmp_path: Path) -> None:
    alice, _ = _alice(platform)
    settings = platform.services.voicemail_settings
    with pytest.raises(InvalidInput):
        settings.update(alice.principal, alice.group, ALICE_LINE, {"greeting_type": SHORT})
    _upload(platform, alice, SHORT, sox_tone(tmp_path / "name.wav", 1.0).read_bytes())
    assert settings.update(alice.principal, alice.group, ALICE_LINE, {"greeting_type": SHORT}).greeting_type == SHORT


def test_another_account_can_neither_see_nor_change_a_greeting(platform: Platform, tmp_path: Path) -> None:
    alice, _ = _alice(platform)
    bob = open_account(platform, "bob", BOB_LINE)
    greetings = platform.services.voicemail_greetings
    kept = _upload(platform, alice, FULL, sox_tone(tmp_path / "full.wav", 2).read_bytes())
    upload = sox_tone(tmp_path / "bob.wav", 2).read_bytes()
    for group in (alice.group, bob.group):
        with pytest.raises(NotFound):
            greetings.upload(bob.principal, group, ALICE_LINE, FULL, io.BytesIO(upload))
        with pytest.raises(NotFound):
            greetings.audio_path(bob.principal, group, ALICE_LINE, FULL)
        with pytest.raises(NotFound):
            greetings.greetings(bob.principal, group, ALICE_LINE)
        with pytest.raises(NotFound):
            greetings.delete(bob.principal, group, ALICE_LINE, FULL)
    assert greetings.greetings(alice.principal, alice.group, ALICE_LINE) == {FULL: kept}
    assert [sound.id for sound in _sounds(platform)] == [kept.sound_id]
