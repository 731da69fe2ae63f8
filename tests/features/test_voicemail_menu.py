"""The 123 menu as a state machine, over a fake media port scripted with key presses, silences and a hang-up,
and a fake store: what the caller hears (prompt ids, `<language>/<id>`), and what is decided for the box."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

import pytest

from tonalite.calls.media_port import MediaClosed, Recording, StopReason
from tonalite.features.voicemail_menu import State, VoicemailMenu, announcement, choices
from tonalite.i18n import CUSTOMER_TIME_ZONE
from tonalite.services.voicemail_access import BoxMessage, OpenedBox
from tonalite.store.models import GreetingType, Language, MessageFolder

LINE_ID = 7
NUMBER = "+33999001234"
PIN = "1234"
BEEP = Path("beep.wav")
WAIT = 5.0


class Do(Enum):
    LISTEN = "listen"
    """The caller lets a prompt that a key could cut short play to its end."""
    SILENCE = "silence"
    """The caller presses nothing until the wait for a key times out."""
    HANG_UP = "hang up"
    """The caller hangs up: from then on, every operation finds the media closed."""
    HANG_UP_WHILE_RECORDING = "hang up while recording"
    """The caller speaks after the beep, then hangs up."""


Step = str | Do


class ScriptedPort:
    """A media port whose caller follows a script: each string is keys pressed in turn (typed ahead, as a real
    port keeps them), each Do an action. Playing records the files heard; running out of script is a test bug."""

    def __init__(self, *steps: Step) -> None:
        self._script: deque[Step] = deque()
        for step in steps:
            self._script.extend(step if isinstance(step, str) else [step])
        self.heard: list[str] = []
        self.recorded: list[Path] = []

    def _next(self) -> Step:
        assert self._script, f"the script ran out; heard so far: {self.heard}"
        return self._script[0]

    async def play(self, files: Sequence[Path], *, interruptible: bool = False) -> str | None:
        self.heard += [str(path) for path in files]
        step = self._script[0] if self._script else None
        if step is Do.HANG_UP:
            raise MediaClosed()
        if not interruptible or step in (None, Do.SILENCE, Do.HANG_UP_WHILE_RECORDING):
            return None
        self._script.popleft()
        return None if step is Do.LISTEN else str(step)

    async def record(self, path: Path, *, max_seconds: float, stop_digits: str = "#") -> Recording:
        with path.open("xb") as file:
            file.write(b"RIFF")
        self.recorded.append(path)
        step = self._script.popleft()
        if step is Do.HANG_UP_WHILE_RECORDING:
            self._script.appendleft(Do.HANG_UP)
            return Recording(path, 2.0, StopReason.HANG_UP)
        if step is Do.SILENCE:
            return Recording(path, max_seconds, StopReason.MAX_LENGTH)
        assert isinstance(step, str) and step in stop_digits, step
        return Recording(path, 2.0, StopReason.DIGIT, step)

    async def collect_digits(
        self, *, max_digits: int, first_timeout: float, inter_digit_timeout: float, terminator: str | None = "#"
    ) -> str:
        digits = ""
        while len(digits) < max_digits:
            step = self._next()
            if step is Do.HANG_UP:
                raise MediaClosed()
            self._script.popleft()
            assert step is not Do.LISTEN, "nothing is playing"
            if step is Do.SILENCE or step == terminator:
                break
            digits += str(step)
        return digits


def _message(message_id: int, folder: MessageFolder = MessageFolder.NEW, caller: str = "+33999005555") -> BoxMessage:
    received = datetime(2026, 1, 5, 13, 5, tzinfo=UTC)  # a Monday, 14:05 in Paris
    return BoxMessage(message_id, caller, received, folder, Path(f"message-{message_id}.wav"))


class FakeBoxes:
    """One box, line LINE_ID with number NUMBER; records what is decided."""

    def __init__(
        self,
        messages: Sequence[BoxMessage] = (),
        *,
        language: Language = Language.FR,
        pin: str = PIN,
        caller_language: Language = Language.FR,
    ) -> None:
        self.stored = list(messages)
        self.opened = OpenedBox(LINE_ID, 70, language, CUSTOMER_TIME_ZONE)
        self.pin = pin
        self.caller_language = caller_language
        self.saved: list[int] = []
        self.deleted: list[int] = []
        self.unlock_numbers: list[str] = []

    def language(self, line_id: int | None) -> Language:
        return self.caller_language

    def box(self, line_id: int) -> OpenedBox | None:
        return self.opened if line_id == LINE_ID else None

    def unlock(self, number: str, pin: str) -> OpenedBox | None:
        self.unlock_numbers.append(number)
        return self.opened if (number, pin) == (NUMBER, self.pin) and self.pin else None

    def messages(self, box: OpenedBox) -> list[BoxMessage]:
        return list(self.stored)

    def save(self, box: OpenedBox, message_id: int) -> None:
        self.saved.append(message_id)
        self.stored = [replace(m, folder=MessageFolder.SAVED) if m.message_id == message_id else m for m in self.stored]

    def delete(self, box: OpenedBox, message_id: int) -> None:
        self.deleted.append(message_id)
        self.stored = [message for message in self.stored if message.message_id != message_id]

    def change_pin(self, box: OpenedBox, pin: str) -> None:
        self.pin = pin


@dataclass
class FakeGreetings:
    keeps: bool = True
    kept: list[tuple[int, GreetingType, Path, bool]] = field(default_factory=list)
    """What keep_recording was given, and whether the recording was there then."""

    def keep_recording(self, line_id: int, kind: GreetingType, recorded: Path) -> bool:
        self.kept.append((line_id, kind, recorded, recorded.exists()))
        return self.keeps


def _prompt(language: str, prompt_id: str) -> Path:
    return Path(language, prompt_id)


def _menu(boxes: FakeBoxes, greetings: FakeGreetings | None = None) -> VoicemailMenu:
    return VoicemailMenu(boxes, greetings or FakeGreetings(), prompts=_prompt, beep=BEEP)


async def _own(boxes: FakeBoxes, *steps: Step, greetings: FakeGreetings | None = None) -> list[str]:
    port = ScriptedPort(*steps)
    await asyncio.wait_for(_menu(boxes, greetings).consult_own(port, LINE_ID), WAIT)
    return port.heard


def _ends_with(heard: list[str], expected: list[str]) -> bool:
    return heard[-len(expected) :] == expected


def _fr(*prompt_ids: str) -> list[str]:
    return [f"fr/{prompt_id}" for prompt_id in prompt_ids]


MENU = "fr/voicemail_main_menu"
MESSAGE_MENU = "fr/voicemail_message_menu"
ANNOUNCED_1 = [*_fr(*announcement(_message(1), FakeBoxes().opened)), "message-1.wav"]
ANNOUNCED_2 = [*_fr(*announcement(_message(2), FakeBoxes().opened)), "message-2.wav"]


def test_the_main_and_message_menus_take_their_keys() -> None:
    assert choices(State.MAIN_MENU) == {"1", "2", "3", "*"}
    assert choices(State.MESSAGE_MENU) == {"1", "2", "3", "6", "*"}


@pytest.mark.parametrize(
    ("new", "saved", "language", "spoken"),
    [
        (0, 0, "fr", "voicemail_no_message"),
        (1, 0, "fr", "voicemail_you_have number_1 voicemail_new_message"),
        (2, 0, "en", "voicemail_you_have number_2 voicemail_new_messages"),
        (0, 1, "en", "voicemail_you_have number_1 voicemail_saved_message"),
        (0, 3, "fr", "voicemail_you_have number_3 voicemail_saved_messages"),
        (
            3,
            1,
            "fr",
            "voicemail_you_have number_3 voicemail_new_messages voicemail_and number_1 voicemail_saved_message",
        ),
        (
            1,
            2,
            "en",
            "voicemail_you_have number_1 voicemail_new_message voicemail_and number_2 voicemail_saved_messages",
        ),
    ],
)
async def test_the_owner_hears_the_counts_in_the_account_language(
    new: int, saved: int, language: str, spoken: str
) -> None:
    messages = [_message(index) for index in range(new)]
    messages += [_message(new + index, MessageFolder.SAVED) for index in range(saved)]
    heard = await _own(FakeBoxes(messages, language=Language(language)), Do.HANG_UP)
    assert heard == [f"{language}/{prompt_id}" for prompt_id in spoken.split()]


async def test_an_unanswered_menu_is_said_three_times_then_goodbye() -> None:
    heard = await _own(FakeBoxes(), Do.LISTEN, Do.SILENCE, Do.SILENCE, Do.SILENCE)
    assert heard == _fr("voicemail_no_message", *["voicemail_main_menu"] * 3, "goodbye")


async def test_an_invalid_key_is_said_so_and_the_menu_comes_again() -> None:
    heard = await _own(FakeBoxes(), Do.LISTEN, "9", Do.SILENCE, "#", Do.SILENCE, Do.SILENCE, Do.SILENCE)
    # a key restarts the count of unanswered menus
    assert heard == _fr(
        "voicemail_no_message",
        "voicemail_main_menu",  # 9
        "invalid_choice",
        "voicemail_main_menu",  # silence
        "voicemail_main_menu",  # #
        "invalid_choice",
        *["voicemail_main_menu"] * 3,
        "goodbye",
    )


async def test_star_says_the_main_menu_again() -> None:
    heard = await _own(FakeBoxes(), Do.LISTEN, "*", Do.HANG_UP)
    assert heard == _fr("voicemail_no_message", "voicemail_main_menu", "voicemail_main_menu")


async def test_a_key_during_the_counts_is_the_main_menu_choice() -> None:
    heard = await _own(FakeBoxes([_message(1)]), "1", Do.HANG_UP)
    assert heard[:4] == _fr("voicemail_you_have", "number_1", "voicemail_new_message", "voicemail_message_from")


async def test_listening_to_every_message_then_the_main_menu() -> None:
    boxes = FakeBoxes([_message(1), _message(2, MessageFolder.SAVED)])
    heard = await _own(boxes, "1", Do.LISTEN, "6", Do.LISTEN, "6", Do.LISTEN, Do.HANG_UP)
    summary = _fr("voicemail_you_have", "number_1", "voicemail_new_message", "voicemail_and")
    summary += _fr("number_1", "voicemail_saved_message")
    assert heard == [
        *summary,
        *ANNOUNCED_1,
        MESSAGE_MENU,
        *ANNOUNCED_2,
        MESSAGE_MENU,
        "fr/voicemail_no_more_messages",
        MENU,
    ]
    assert boxes.saved == [1]  # the new one, heard then left; the saved one stays as it was
    assert boxes.deleted == []


async def test_listening_to_an_empty_box() -> None:
    heard = await _own(FakeBoxes(), Do.LISTEN, "1", Do.LISTEN, Do.HANG_UP)
    assert heard == _fr("voicemail_no_message", "voicemail_main_menu", "voicemail_no_message", "voicemail_main_menu")


async def test_replay_then_back_to_the_main_menu_saves_the_heard_message() -> None:
    boxes = FakeBoxes([_message(1), _message(2)])
    heard = await _own(boxes, "1", Do.LISTEN, "1", Do.LISTEN, "*", Do.HANG_UP)
    assert _ends_with(heard, [*ANNOUNCED_1, MESSAGE_MENU, *ANNOUNCED_1, MESSAGE_MENU, MENU])
    assert boxes.saved == [1]


async def test_a_key_during_the_message_is_the_message_menu_choice_and_it_stays_new() -> None:
    boxes = FakeBoxes([_message(1), _message(2)])
    heard = await _own(boxes, "1", "6", "*", Do.HANG_UP)
    assert _ends_with(heard, [*ANNOUNCED_1, *ANNOUNCED_2, MENU])
    assert boxes.saved == []


@pytest.mark.parametrize(
    ("key", "said", "saved", "deleted"),
    [("2", "voicemail_message_saved", [1], []), ("3", "voicemail_message_deleted", [], [1])],
)
async def test_save_or_delete_then_the_next_message(key: str, said: str, saved: list[int], deleted: list[int]) -> None:
    boxes = FakeBoxes([_message(1), _message(2)])
    heard = await _own(boxes, "1", Do.LISTEN, key, "*", Do.HANG_UP)
    assert _ends_with(heard, [MESSAGE_MENU, f"fr/{said}", *ANNOUNCED_2, MENU])
    assert (boxes.saved, boxes.deleted) == (saved, deleted)


async def test_a_message_can_be_saved_or_deleted_while_it_plays() -> None:
    boxes = FakeBoxes([_message(1), _message(2)])
    await _own(boxes, "1", "3", "2", Do.HANG_UP)
    assert (boxes.deleted, boxes.saved) == ([1], [2])


@pytest.mark.parametrize(
    ("steps", "saved"),
    [
        (("1", Do.LISTEN, Do.HANG_UP), [1]),  # heard to its end, then hung up at the message menu
        (("1", Do.HANG_UP), []),  # hung up while it played
        (("1", Do.LISTEN, "2", Do.HANG_UP), [1]),  # saved, then hung up
    ],
)
async def test_hanging_up_keeps_what_was_decided(steps: tuple[Step, ...], saved: list[int]) -> None:
    boxes = FakeBoxes([_message(1), _message(2)])
    heard = await _own(boxes, *steps)
    assert "fr/goodbye" not in heard
    assert boxes.saved == saved


async def test_an_unanswered_message_menu_says_goodbye_and_saves_the_heard_message() -> None:
    boxes = FakeBoxes([_message(1)])
    heard = await _own(boxes, "1", Do.LISTEN, Do.SILENCE, Do.SILENCE, Do.SILENCE)
    assert _ends_with(heard, [*[MESSAGE_MENU] * 3, "fr/goodbye"])
    assert boxes.saved == [1]


@pytest.mark.parametrize(
    ("keeps", "said"), [(True, "voicemail_greeting_saved"), (False, "voicemail_greeting_too_short")]
)
async def test_recording_the_greeting(keeps: bool, said: str) -> None:
    greetings = FakeGreetings(keeps)
    port = ScriptedPort("2", "#", Do.LISTEN, Do.HANG_UP)
    await asyncio.wait_for(_menu(FakeBoxes(), greetings).consult_own(port, LINE_ID), WAIT)
    assert _ends_with(port.heard, ["fr/voicemail_record_greeting", str(BEEP), f"fr/{said}", MENU])
    (recorded,) = port.recorded
    assert greetings.kept == [(LINE_ID, GreetingType.FULL, recorded, True)]
    assert not recorded.exists() and not recorded.parent.exists()


async def test_a_greeting_cut_by_a_hang_up_is_not_kept() -> None:
    greetings = FakeGreetings()
    port = ScriptedPort("2", Do.HANG_UP_WHILE_RECORDING)
    await asyncio.wait_for(_menu(FakeBoxes(), greetings).consult_own(port, LINE_ID), WAIT)
    assert greetings.kept == []
    assert not port.recorded[0].parent.exists()


@pytest.mark.parametrize(
    ("steps", "said", "pin"),
    [
        (("5678#", "5678#"), ["voicemail_new_pin", "voicemail_confirm_pin", "voicemail_pin_changed"], "5678"),
        (("5678#", "5679#"), ["voicemail_new_pin", "voicemail_confirm_pin", "voicemail_pin_mismatch"], PIN),
        (("567#",), ["voicemail_new_pin", "invalid_choice"], PIN),
        (("56789#",), ["voicemail_new_pin", "invalid_choice"], PIN),
        (("56*8#",), ["voicemail_new_pin", "invalid_choice"], PIN),
        ((Do.SILENCE,), ["voicemail_new_pin", "invalid_choice"], PIN),
    ],
)
async def test_changing_the_pin(steps: tuple[Step, ...], said: list[str], pin: str) -> None:
    boxes = FakeBoxes()
    heard = await _own(boxes, "3", *steps, Do.LISTEN, Do.HANG_UP)
    assert heard[1:] == _fr(*said, "voicemail_main_menu")
    assert boxes.pin == pin


async def test_a_line_without_a_box_hears_nothing() -> None:
    port = ScriptedPort()
    await _menu(FakeBoxes()).consult_own(port, LINE_ID + 1)
    assert port.heard == []


UNLOCK = _fr("voicemail_enter_box", "voicemail_enter_pin")


@pytest.mark.parametrize("box_number", ["0999001234#", "0033999001234#"])
async def test_remote_access_with_the_number_and_pin_opens_the_box_in_its_language(box_number: str) -> None:
    boxes = FakeBoxes([_message(1)], language=Language.EN, caller_language=Language.FR)
    port = ScriptedPort(box_number, f"{PIN}#", Do.HANG_UP)
    await asyncio.wait_for(_menu(boxes).consult_remote(port, None), WAIT)
    assert port.heard == [*UNLOCK, "en/voicemail_you_have", "en/number_1", "en/voicemail_new_message"]
    assert boxes.unlock_numbers == [NUMBER]


async def test_remote_access_speaks_the_calling_line_language_until_the_box_opens() -> None:
    boxes = FakeBoxes(caller_language=Language.EN)
    port = ScriptedPort(Do.HANG_UP)
    await asyncio.wait_for(_menu(boxes).consult_remote(port, 12), WAIT)
    assert port.heard == ["en/voicemail_enter_box"]


WRONG = [*UNLOCK, "fr/voicemail_wrong_pin"]


@pytest.mark.parametrize(
    ("attempts", "pin"),
    [
        ((("0999001234#", "9999#"),) * 3, PIN),  # wrong PIN
        ((("0999009999#", f"{PIN}#"),) * 3, PIN),  # wrong box
        ((("12#", f"{PIN}#"), ("#", "#"), (Do.SILENCE, Do.SILENCE)), PIN),  # no number, nothing typed
        ((("0999001234#", "#"),) * 3, ""),  # no PIN set: the box does not open, even with no PIN typed
    ],
)
async def test_three_failed_attempts_say_wrong_pin_then_goodbye(
    attempts: tuple[tuple[Step, Step], ...], pin: str
) -> None:
    boxes = FakeBoxes(pin=pin)
    port = ScriptedPort(*(step for attempt in attempts for step in attempt))
    await asyncio.wait_for(_menu(boxes).consult_remote(port, None), WAIT)
    assert port.heard == [*WRONG * 3, "fr/goodbye"]
    assert len(boxes.unlock_numbers) == 3


async def test_remote_access_opens_on_a_later_attempt() -> None:
    boxes = FakeBoxes()
    port = ScriptedPort("0999001234#", "4321#", "0999001234#", f"{PIN}#", Do.HANG_UP)
    await asyncio.wait_for(_menu(boxes).consult_remote(port, None), WAIT)
    assert port.heard == [*WRONG, *UNLOCK, "fr/voicemail_no_message"]


async def test_hanging_up_while_typing_the_pin_ends_quietly() -> None:
    port = ScriptedPort("0999001234#", "12", Do.HANG_UP)
    await asyncio.wait_for(_menu(FakeBoxes()).consult_remote(port, None), WAIT)
    assert port.heard == UNLOCK


@pytest.mark.parametrize(
    ("caller", "received", "spoken"),
    [
        (
            "+33999005555",
            datetime(2026, 1, 5, 13, 5, tzinfo=UTC),
            "number_0 number_9 number_99 number_0 number_0 number_55 number_55 "
            "voicemail_received day_0 number_5 month_1 voicemail_at number_14 voicemail_hours number_5",
        ),
        (
            "",
            datetime(2026, 7, 14, 8, 0, tzinfo=UTC),  # summer time: 10:00 in Paris, on the hour
            "voicemail_unknown_caller voicemail_received day_1 number_14 month_7 voicemail_at "
            "number_10 voicemail_hours",
        ),
        (
            "anonymous",
            datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # already the next day in Paris
            "voicemail_unknown_caller voicemail_received day_4 number_1 month_1 voicemail_at number_0 voicemail_hours "
            "number_30",
        ),
    ],
)
def test_a_message_is_announced_with_its_caller_and_local_time(caller: str, received: datetime, spoken: str) -> None:
    message = BoxMessage(1, caller, received, MessageFolder.NEW, Path("message-1.wav"))
    assert announcement(message, FakeBoxes().opened) == ["voicemail_message_from", *spoken.split()]
