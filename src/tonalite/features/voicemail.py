"""Voicemail: taking a message for a line whose call went unanswered (the deposit).

The call core answers the caller and hands the leg's media port here. The caller hears the greeting of the
box's type (services.voicemail_greetings says what each one sounds like; in greeting-only mode, the sentence
that no message is taken, or the owner's recording alone), then the beep, and is recorded until they hang up,
press #, or reach the box's longest message. An owner's recording that cannot be played (its file gone or
damaged) gives way to the default greeting: a caller never hears silence. The message is stored as it was
recorded, even when the call ends badly, then its notices go out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from tonalite.calls.media_port import MediaClosed, MediaPort, StopReason
from tonalite.features.spoken import spoken_phone_number
from tonalite.media.wav import WavError
from tonalite.prompts import BEEP, prompt_path
from tonalite.services.voicemail import Deposit, DepositBox
from tonalite.store.models import GreetingType, Language, VoicemailMessage

log = logging.getLogger(__name__)

PromptFiles = Callable[[str, str], Path]
"""(language, prompt id) -> the file to play: `tonalite.prompts.prompt_path`, or short sounds in tests."""


class Deposits(Protocol):
    """The voicemail store's side for the call core (VoicemailService)."""

    def deposit_box(self, line_id: int) -> DepositBox | None: ...

    def start_deposit(self, line_id: int, caller: str) -> Deposit | None: ...

    def complete(self, deposit: Deposit) -> VoicemailMessage | None: ...


class Notices(Protocol):
    async def new_message(self, message_id: int) -> object: ...


class VoicemailDeposit:
    def __init__(
        self, deposits: Deposits, notices: Notices, prompts: PromptFiles = prompt_path, beep: Path = BEEP
    ) -> None:
        self._deposits = deposits
        self._notices = notices
        self._prompts = prompts
        self._beep = beep

    async def takes_messages(self, line_id: int) -> DepositBox | None:
        """The line's box when it is on: the call core sends the unanswered call here only then."""
        return await asyncio.to_thread(self._deposits.deposit_box, line_id)

    async def take_message(
        self, port: MediaPort, box: DepositBox, line_id: int, number: str, caller: str
    ) -> int | None:
        """Greet, record and store; the stored message's id, or None (greeting only, hung up before the beep,
        or less than a second of message)."""
        try:
            await self._greet(port, box, number)
            if box.do_not_record:
                return None
            await port.play([self._beep])
        except MediaClosed:
            return None
        deposit = await asyncio.to_thread(self._deposits.start_deposit, line_id, caller)
        if deposit is None:
            return None
        try:
            recording = await port.record(deposit.path, max_seconds=box.max_message_seconds)
        except MediaClosed:  # hung up after the beep, before the recording began
            await asyncio.to_thread(self._deposits.complete, deposit)
            return None
        except asyncio.CancelledError:
            self._deposits.complete(deposit)  # the part recorded is kept, even when the call core stops
            raise
        message = await asyncio.to_thread(self._deposits.complete, deposit)
        if recording.reason != StopReason.HANG_UP:
            await self._say_goodbye(port, box.language)
        if message is None:
            return None
        await self._notices.new_message(message.id)
        return message.id

    async def _greet(self, port: MediaPort, box: DepositBox, number: str) -> None:
        """Play the box's greeting, a key skipping to the beep; the default one if the recording cannot be read
        (a file is read whole before any of it is played)."""
        try:
            await port.play(self._greeting(box, number), interruptible=True)
        except (OSError, WavError) as error:
            log.warning("box %d: its greeting cannot be played, the default one is (%s)", box.box_id, error)
            await port.play(self._spoken(box, spoken_phone_number(number, box.language)), interruptible=True)

    def _greeting(self, box: DepositBox, number: str) -> list[Path]:
        if box.greeting is None or box.greeting_type == GreetingType.DEFAULT:
            return self._spoken(box, spoken_phone_number(number, box.language))
        if box.greeting_type == GreetingType.SHORT:
            return self._spoken(box, [box.greeting])
        return [box.greeting]

    def _spoken(self, box: DepositBox, name: Sequence[str | Path]) -> list[Path]:
        """The default sentences around the line's name: its number spoken (prompt ids), or the owner's
        recording of it (a file)."""
        ending = "voicemail_greeting_no_message" if box.do_not_record else "voicemail_greeting_end"
        language = box.language.value
        return [
            self._prompts(language, part) if isinstance(part, str) else part
            for part in ["voicemail_greeting_start", *name, ending]
        ]

    async def _say_goodbye(self, port: MediaPort, language: Language) -> None:
        try:
            await port.play([self._prompts(language.value, "goodbye")])
        except MediaClosed:
            log.debug("the caller hung up during the goodbye")
