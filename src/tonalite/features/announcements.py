"""Spoken messages a call ends with, in the language of the line's account: "your correspondent is absent",
"anonymous calls are not accepted", "the number you have dialled is not assigned", a locked line's "outgoing
calls are locked". The call core plays them as early media before the call's final status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from tonalite.calls.media_port import MediaClosed, MediaPort
from tonalite.features.voicemail import PromptFiles
from tonalite.prompts import prompt_path
from tonalite.store.models import Language


class Announcements:
    def __init__(self, language_of: Callable[[int], Language], prompts: PromptFiles = prompt_path) -> None:
        self._language_of = language_of
        self._prompts = prompts

    async def announce(self, port: MediaPort, *, line_id: int, prompt: str) -> None:
        """Say `prompt` once, in the language of `line_id`'s account; a caller who hangs up stops it."""
        language = await asyncio.to_thread(self._language_of, line_id)
        with contextlib.suppress(MediaClosed):
            await port.play([self._prompts(language.value, prompt)])
