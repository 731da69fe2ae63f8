"""A star code dialled on a line's own phone (*21*0999001234#, #21#, *#26#, #002…): the node answers, the code
is applied to the line's options (features.feature_codes decides what changes and what to say), the change is
recorded with the phone as its origin, and the caller hears the confirmation in the account's language; the
call core hangs up when it is said. A code the options refuse (a number the panel would refuse too) is said to
be invalid and changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from tonalite.calls.media_port import MediaClosed, MediaPort
from tonalite.features.call_options import CallOptions
from tonalite.features.feature_codes import AnsweredCode, CodeOutcome, apply_feature_code
from tonalite.features.voicemail import PromptFiles
from tonalite.prompts import prompt_path
from tonalite.services.errors import InvalidInput
from tonalite.services.secrets import verify_password
from tonalite.store.models import Language, LineOptions

log = logging.getLogger(__name__)

INVALID = CodeOutcome({}, ("code_invalid",))


class LineOptionsStore(Protocol):
    """The options of a line as its own phone changes them (services.line_options.LineOptionsService)."""

    def of_line(self, line_id: int) -> tuple[LineOptions, Language]: ...

    def update_from_phone(self, line_id: int, changes: Mapping[str, Any]) -> LineOptions: ...


class StarCodes:
    def __init__(self, options: LineOptionsStore, prompts: PromptFiles = prompt_path) -> None:
        self._options = options
        self._prompts = prompts

    async def answer(self, port: MediaPort, line_id: int, code: AnsweredCode) -> None:
        """Apply the code to the line's options and say what it did."""
        options, language = await asyncio.to_thread(self._options.of_line, line_id)
        pin_hash = options.lock_out_call_pin_hash
        outcome = apply_feature_code(
            code, CallOptions.of(options), lambda pin: bool(pin_hash) and verify_password(pin, pin_hash)
        )
        if outcome.changes:
            try:
                await asyncio.to_thread(self._options.update_from_phone, line_id, outcome.changes)
            except InvalidInput as error:
                log.info("line %d: star code refused (%s)", line_id, error.message_id)
                outcome = INVALID
        with contextlib.suppress(MediaClosed):  # hung up before the end: the change is made all the same
            await port.play([self._prompts(language.value, prompt) for prompt in outcome.spoken(language)])
