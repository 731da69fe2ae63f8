"""The voicemail menu (dial 123): a line's owner hears and sorts their messages, records their greeting and
changes their PIN, by phone.

From the line's own phone the box opens at once. From any other phone (the voicemail access number) the caller
types the line's number then the box's PIN, each followed by #; a wrong number and a wrong PIN get the same
answer, a box with no PIN never opens this way, and the third failure ends the call. The menu speaks the
account's language (before the box is open, the calling line's account's, or the default one).

Then the counts of new and saved messages, and the main menu: 1 listen, 2 record the greeting, 3 change the
PIN, * the menu again. Messages play new ones first, then saved ones, oldest first in each (the order they came
in, as voicemail usually goes). Each is announced (who called, when, in the account's time zone) then played; a
key pressed meanwhile is the message menu's choice: 1 again, 2 save, 3 delete, 6 next, * back to the main menu.
A new message played to its end is saved when the caller leaves it (next, back, or hanging up); one cut short
by a key stays new.

A menu is said, then a key awaited MENU_TIMEOUT seconds; unanswered MENU_PLAYS times in a row, the menu says
goodbye. An invalid key gets "invalid choice" and the menu again. When the caller hangs up, the menu ends at
once: what they chose is stored as it is chosen. The call core hangs up when a consultation returns.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum, auto
from pathlib import Path
from typing import Protocol

from tonalite.calls.media_port import MediaClosed, Recording, StopReason
from tonalite.features.dialled import normalise_dialled
from tonalite.features.spoken import spoken_count, spoken_phone_number
from tonalite.features.voicemail import PromptFiles
from tonalite.prompts import BEEP, prompt_path
from tonalite.services.errors import InvalidInput
from tonalite.services.voicemail_access import BoxMessage, OpenedBox
from tonalite.services.voicemail_settings import checked_pin
from tonalite.store.models import GreetingType, Language, MessageFolder

log = logging.getLogger(__name__)

MENU_TIMEOUT = 6.0
"""Seconds a menu waits for a key once said."""
MENU_PLAYS = 3
"""Times in a row a menu is said without an answer before the goodbye."""
FIRST_DIGIT_TIMEOUT = 10.0
NEXT_DIGIT_TIMEOUT = 5.0
UNLOCK_ATTEMPTS = 3
GREETING_SECONDS = 120
_MAX_TYPED = 20
"""Digits taken before # at most: a number with its international prefix, with room to spare."""


class MenuMedia(Protocol):
    """What the menu does with the caller's leg (calls.media_port.MediaPort)."""

    async def play(self, files: Sequence[Path], *, interruptible: bool = False) -> str | None: ...

    async def record(self, path: Path, *, max_seconds: float, stop_digits: str = "#") -> Recording: ...

    async def collect_digits(
        self, *, max_digits: int, first_timeout: float, inter_digit_timeout: float, terminator: str | None = "#"
    ) -> str: ...


class Boxes(Protocol):
    """The boxes as their owners consult them (services.voicemail_access.VoicemailAccess)."""

    def language(self, line_id: int | None) -> Language: ...

    def box(self, line_id: int) -> OpenedBox | None: ...

    def unlock(self, number: str, pin: str) -> OpenedBox | None: ...

    def messages(self, box: OpenedBox) -> list[BoxMessage]: ...

    def save(self, box: OpenedBox, message_id: int) -> None: ...

    def delete(self, box: OpenedBox, message_id: int) -> None: ...

    def change_pin(self, box: OpenedBox, pin: str) -> None: ...


class Greetings(Protocol):
    """services.voicemail_greetings.VoicemailGreetingService: True when the recording became the greeting."""

    def keep_recording(self, line_id: int, kind: GreetingType, recorded: Path, /) -> bool: ...


class State(Enum):
    SUMMARY = auto()
    MAIN_MENU = auto()
    FIRST_MESSAGE = auto()
    MESSAGE = auto()
    MESSAGE_MENU = auto()
    SAVE = auto()
    DELETE = auto()
    NEXT = auto()
    BACK = auto()
    RECORD_GREETING = auto()
    CHANGE_PIN = auto()
    GOODBYE = auto()


class Outcome(Enum):
    """How a state ended, besides a menu's key."""

    DONE = auto()
    NONE_LEFT = auto()
    """No (more) message to play."""
    NO_ANSWER = auto()
    """The menu was said MENU_PLAYS times without a key."""


TRANSITIONS: dict[tuple[State, str | Outcome], State] = {
    (State.SUMMARY, Outcome.DONE): State.MAIN_MENU,
    (State.MAIN_MENU, "1"): State.FIRST_MESSAGE,
    (State.MAIN_MENU, "2"): State.RECORD_GREETING,
    (State.MAIN_MENU, "3"): State.CHANGE_PIN,
    (State.MAIN_MENU, "*"): State.MAIN_MENU,
    (State.MAIN_MENU, Outcome.NO_ANSWER): State.GOODBYE,
    (State.FIRST_MESSAGE, Outcome.DONE): State.MESSAGE,
    (State.FIRST_MESSAGE, Outcome.NONE_LEFT): State.MAIN_MENU,
    (State.MESSAGE, Outcome.DONE): State.MESSAGE_MENU,
    (State.MESSAGE_MENU, "1"): State.MESSAGE,
    (State.MESSAGE_MENU, "2"): State.SAVE,
    (State.MESSAGE_MENU, "3"): State.DELETE,
    (State.MESSAGE_MENU, "6"): State.NEXT,
    (State.MESSAGE_MENU, "*"): State.BACK,
    (State.MESSAGE_MENU, Outcome.NO_ANSWER): State.GOODBYE,
    (State.SAVE, Outcome.DONE): State.NEXT,
    (State.DELETE, Outcome.DONE): State.NEXT,
    (State.NEXT, Outcome.DONE): State.MESSAGE,
    (State.NEXT, Outcome.NONE_LEFT): State.MAIN_MENU,
    (State.BACK, Outcome.DONE): State.MAIN_MENU,
    (State.RECORD_GREETING, Outcome.DONE): State.MAIN_MENU,
    (State.CHANGE_PIN, Outcome.DONE): State.MAIN_MENU,
}
"""Where each state goes, by the key chosen in it or how it ended; GOODBYE ends the menu."""


def choices(state: State) -> frozenset[str]:
    """The keys a menu state takes."""
    return frozenset(key for (origin, key) in TRANSITIONS if origin is state and isinstance(key, str))


class _Caller:
    """Speaking with the caller: prompts in their language (the box's, once open), keys pressed."""

    def __init__(self, port: MenuMedia, prompts: PromptFiles, language: Language) -> None:
        self.port = port
        self.language = language
        self._prompts = prompts
        self._typed: str | None = None

    async def say(self, prompt_ids: Sequence[str], *, then: Sequence[Path] = ()) -> None:
        """Prompts, then files; keys pressed meanwhile stay input for what follows."""
        await self.port.play(self._files(prompt_ids, then))

    async def say_interruptibly(self, prompt_ids: Sequence[str], *, then: Sequence[Path] = ()) -> bool:
        """Prompts, then files, cut short by a key, which is the next menu's choice; whether it was all said."""
        self._typed = await self.port.play(self._files(prompt_ids, then), interruptible=True)
        return self._typed is None

    async def ask(self, prompt_id: str) -> str:
        """The digits typed up to # (or a pause), the prompt cut short by the first one."""
        first = await self.port.play(self._files([prompt_id], ()), interruptible=True)
        if first == "#":
            return ""
        rest = await self.port.collect_digits(
            max_digits=_MAX_TYPED, first_timeout=FIRST_DIGIT_TIMEOUT, inter_digit_timeout=NEXT_DIGIT_TIMEOUT
        )
        return (first or "") + rest

    async def choose(self, prompt_id: str, keys: frozenset[str]) -> str | Outcome:
        """One of `keys`, or NO_ANSWER: see the module's documentation."""
        unanswered = 0
        while unanswered < MENU_PLAYS:
            key = self._typed or await self.port.play(self._files([prompt_id], ()), interruptible=True)
            self._typed = None
            key = key or await self.port.collect_digits(
                max_digits=1, first_timeout=MENU_TIMEOUT, inter_digit_timeout=MENU_TIMEOUT, terminator=None
            )
            if key in keys:
                return key
            if key:
                unanswered = 0
                await self.say(["invalid_choice"])
            else:
                unanswered += 1
        return Outcome.NO_ANSWER

    def _files(self, prompt_ids: Sequence[str], then: Sequence[Path]) -> list[Path]:
        return [*(self._prompts(self.language.value, prompt_id) for prompt_id in prompt_ids), *then]


@dataclass
class _Consultation:
    """One call's way through an open box. `position` is the message played in `messages`; `unsaved_heard`
    says that it is new and was played to its end, to be saved when the caller leaves it."""

    caller: _Caller
    box: OpenedBox
    messages: list[BoxMessage] = field(default_factory=list)
    position: int = 0
    unsaved_heard: bool = False

    @property
    def message(self) -> BoxMessage:
        return self.messages[self.position]


class VoicemailMenu:
    def __init__(
        self, boxes: Boxes, greetings: Greetings, prompts: PromptFiles = prompt_path, beep: Path = BEEP
    ) -> None:
        self._boxes = boxes
        self._greetings = greetings
        self._prompts = prompts
        self._beep = beep
        self._states: dict[State, Callable[[_Consultation], Awaitable[str | Outcome]]] = {
            State.SUMMARY: self._summary,
            State.MAIN_MENU: self._main_menu,
            State.FIRST_MESSAGE: self._first_message,
            State.MESSAGE: self._message,
            State.MESSAGE_MENU: self._message_menu,
            State.SAVE: self._save,
            State.DELETE: self._delete,
            State.NEXT: self._next,
            State.BACK: self._back,
            State.RECORD_GREETING: self._record_greeting,
            State.CHANGE_PIN: self._change_pin,
        }

    async def consult_own(self, port: MenuMedia, line_id: int) -> None:
        """The line's owner dialled 123 from the line itself: no PIN asked."""
        box = await asyncio.to_thread(self._boxes.box, line_id)
        if box is None:
            log.warning("line %d has no voicemail box to consult", line_id)
            return
        await self._consult(_Consultation(_Caller(port, self._prompts, box.language), box))

    async def consult_remote(self, port: MenuMedia, caller_line_id: int | None) -> None:
        """Someone called the voicemail access number, from a line of the platform (`caller_line_id`) or from
        outside (None): the box opens with its line's number and PIN."""
        language = await asyncio.to_thread(self._boxes.language, caller_line_id)
        caller = _Caller(port, self._prompts, language)
        try:
            box = await self._unlock(caller)
            if box is None:
                log.info("voicemail access refused after %d attempts", UNLOCK_ATTEMPTS)
                await caller.say(["goodbye"])
                return
        except MediaClosed:
            return
        log.info("the voicemail box of line %d was opened from another phone", box.line_id)
        caller.language = box.language
        await self._consult(_Consultation(caller, box))

    async def _unlock(self, caller: _Caller) -> OpenedBox | None:
        """The box whose line's number and PIN the caller types, within UNLOCK_ATTEMPTS tries. Whatever they
        type, the PIN is asked and checked, so the answer and its delay never tell which was wrong."""
        for _ in range(UNLOCK_ATTEMPTS):
            number = normalise_dialled(await caller.ask("voicemail_enter_box"))
            pin = await caller.ask("voicemail_enter_pin")
            box = await asyncio.to_thread(self._boxes.unlock, number or "", pin)
            if box is not None:
                return box
            await caller.say(["voicemail_wrong_pin"])
        return None

    async def _consult(self, consultation: _Consultation) -> None:
        state = State.SUMMARY
        try:
            while state is not State.GOODBYE:
                state = TRANSITIONS[state, await self._states[state](consultation)]
            await consultation.caller.say(["goodbye"])
        except MediaClosed:
            log.debug("the caller hung up in the voicemail menu")
        await self._leave_message(consultation)

    async def _summary(self, consultation: _Consultation) -> Outcome:
        messages = await asyncio.to_thread(self._boxes.messages, consultation.box)
        new = sum(message.folder == MessageFolder.NEW for message in messages)
        await consultation.caller.say_interruptibly(spoken_counts(new, len(messages) - new))
        return Outcome.DONE

    async def _main_menu(self, consultation: _Consultation) -> str | Outcome:
        return await consultation.caller.choose("voicemail_main_menu", choices(State.MAIN_MENU))

    async def _first_message(self, consultation: _Consultation) -> Outcome:
        consultation.messages = await asyncio.to_thread(self._boxes.messages, consultation.box)
        consultation.position = 0
        if not consultation.messages:
            await consultation.caller.say(["voicemail_no_message"])
            return Outcome.NONE_LEFT
        return Outcome.DONE

    async def _message(self, consultation: _Consultation) -> Outcome:
        message = consultation.message
        spoken = announcement(message, consultation.box)
        heard = await consultation.caller.say_interruptibly(spoken, then=[message.path])
        if heard and message.folder == MessageFolder.NEW:
            consultation.unsaved_heard = True
        return Outcome.DONE

    async def _message_menu(self, consultation: _Consultation) -> str | Outcome:
        return await consultation.caller.choose("voicemail_message_menu", choices(State.MESSAGE_MENU))

    async def _save(self, consultation: _Consultation) -> Outcome:
        consultation.unsaved_heard = False
        await asyncio.to_thread(self._boxes.save, consultation.box, consultation.message.message_id)
        await consultation.caller.say(["voicemail_message_saved"])
        return Outcome.DONE

    async def _delete(self, consultation: _Consultation) -> Outcome:
        consultation.unsaved_heard = False
        await asyncio.to_thread(self._boxes.delete, consultation.box, consultation.message.message_id)
        await consultation.caller.say(["voicemail_message_deleted"])
        return Outcome.DONE

    async def _next(self, consultation: _Consultation) -> Outcome:
        await self._leave_message(consultation)
        consultation.position += 1
        if consultation.position < len(consultation.messages):
            return Outcome.DONE
        await consultation.caller.say(["voicemail_no_more_messages"])
        return Outcome.NONE_LEFT

    async def _back(self, consultation: _Consultation) -> Outcome:
        await self._leave_message(consultation)
        return Outcome.DONE

    async def _leave_message(self, consultation: _Consultation) -> None:
        """The caller moves away from the message played: saved when it was new and heard to its end."""
        if consultation.unsaved_heard:
            consultation.unsaved_heard = False
            await asyncio.to_thread(self._boxes.save, consultation.box, consultation.message.message_id)

    async def _record_greeting(self, consultation: _Consultation) -> Outcome:
        """Record until # (or GREETING_SECONDS) into a temporary file, which the greetings service copies when
        it keeps it. A recording ended by hanging up is not kept: the caller did not say it was finished."""
        caller = consultation.caller
        await caller.say(["voicemail_record_greeting"], then=[self._beep])
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="tonalite-greeting-"))
        try:
            recording = await caller.port.record(folder / "greeting.wav", max_seconds=GREETING_SECONDS)
            if recording.reason == StopReason.HANG_UP:
                raise MediaClosed("the caller hung up while recording their greeting")
            kept = await asyncio.to_thread(
                self._greetings.keep_recording, consultation.box.line_id, GreetingType.FULL, recording.path
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
        await caller.say(["voicemail_greeting_saved" if kept else "voicemail_greeting_too_short"])
        return Outcome.DONE

    async def _change_pin(self, consultation: _Consultation) -> Outcome:
        caller = consultation.caller
        pin = await caller.ask("voicemail_new_pin")
        try:
            checked_pin(pin)
        except InvalidInput:
            await caller.say(["invalid_choice"])
            return Outcome.DONE
        if await caller.ask("voicemail_confirm_pin") != pin:
            await caller.say(["voicemail_pin_mismatch"])
            return Outcome.DONE
        await asyncio.to_thread(self._boxes.change_pin, consultation.box, pin)
        await caller.say(["voicemail_pin_changed"])
        return Outcome.DONE


def spoken_counts(new: int, saved: int) -> list[str]:
    """ "You have 2 new messages and 1 saved message", leaving out a folder with none; "you have no messages"."""
    parts = [
        [*spoken_count(count), singular if count == 1 else plural]
        for count, singular, plural in (
            (new, "voicemail_new_message", "voicemail_new_messages"),
            (saved, "voicemail_saved_message", "voicemail_saved_messages"),
        )
        if count
    ]
    if not parts:
        return ["voicemail_no_message"]
    return ["voicemail_you_have", *parts[0], *(prompt for part in parts[1:] for prompt in ["voicemail_and", *part])]


def announcement(message: BoxMessage, box: OpenedBox) -> list[str]:
    """ "Message from <number> received on <Monday> <5> <January> at <14> hours <5>", in the box's time zone;
    a caller with no number (anonymous, or no phone number) is "an unknown caller"; on the hour, no minutes."""
    number = normalise_dialled(message.caller) if message.caller else None
    caller = spoken_phone_number(number, box.language) if number else ["voicemail_unknown_caller"]
    when = message.received_at.astimezone(box.time_zone)
    return [
        "voicemail_message_from",
        *caller,
        "voicemail_received",
        f"day_{when.weekday()}",
        *spoken_count(when.day),
        f"month_{when.month}",
        "voicemail_at",
        *spoken_count(when.hour),
        "voicemail_hours",
        *(spoken_count(when.minute) if when.minute else []),
    ]
