"""A line's "Répondeur" tab: its messages, to play, download, mark read and delete; its greetings, to upload,
play and delete; and its settings."""

# No `from __future__ import annotations`: FastAPI must evaluate the Annotated dependencies, which name
# this closure's local variables.

from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from fastapi.responses import FileResponse, RedirectResponse

from tonalite.i18n import translate
from tonalite.panel.paths import (
    LINE_ROUTE,
    VOICEMAIL_GREETING,
    VOICEMAIL_MESSAGE,
    VOICEMAIL_SETTINGS,
    LineTab,
    line_path,
)
from tonalite.panel.routing import Panel
from tonalite.panel.session import SignedIn
from tonalite.panel.views.line_page import LinePage
from tonalite.services.audio_files import AudioConversionError
from tonalite.services.errors import InvalidInput
from tonalite.services.voicemail_settings import MESSAGE_SECONDS_RANGE, Recipient
from tonalite.store.models import AudioFormat, GreetingType, MessageFolder

MESSAGE_ROUTE = f"{LINE_ROUTE}/{VOICEMAIL_MESSAGE}"
GREETING_ROUTE = f"{LINE_ROUTE}/{VOICEMAIL_GREETING}"
Choice = TypeVar("Choice", bound=StrEnum)


def routes(panel: Panel) -> APIRouter:
    router = panel.router()
    voicemail = panel.services.voicemail
    settings = panel.services.voicemail_settings
    greetings = panel.services.voicemail_greetings
    signed_in = Depends(panel.sessions.signed_in)
    signed_in_form = Depends(panel.sessions.signed_in_form)
    page = LinePage(panel)

    def back_to_tab(group_id: int, number: str) -> Response:
        return RedirectResponse(line_path(group_id, number, LineTab.VOICEMAIL), status_code=303)

    @router.get(f"{MESSAGE_ROUTE}/audio")
    def message_audio(
        group_id: int, number: str, message_id: int, member: Annotated[SignedIn, signed_in], download: bool = False
    ) -> Response:
        """The message's WAV, played in the page (byte ranges, so the player can seek) or downloaded."""
        message = voicemail.message(member.principal, group_id, number, message_id)
        return _wav(voicemail.audio_path(message.box_id, message.id), f"message-{message.id}.wav", download)

    @router.post(f"{MESSAGE_ROUTE}/read")
    def mark_read(group_id: int, number: str, message_id: int, member: Annotated[SignedIn, signed_in_form]) -> Response:
        voicemail.move(member.principal, group_id, number, message_id, MessageFolder.SAVED)
        return back_to_tab(group_id, number)

    @router.post(f"{MESSAGE_ROUTE}/delete")
    def delete(group_id: int, number: str, message_id: int, member: Annotated[SignedIn, signed_in_form]) -> Response:
        voicemail.delete(member.principal, group_id, number, message_id)
        return back_to_tab(group_id, number)

    @router.get(f"{GREETING_ROUTE}/audio")
    def greeting_audio(
        group_id: int, number: str, kind: GreetingType, member: Annotated[SignedIn, signed_in]
    ) -> Response:
        return _wav(greetings.audio_path(member.principal, group_id, number, kind), f"greeting-{kind.value}.wav")

    @router.post(f"{GREETING_ROUTE}/upload")
    def upload_greeting(
        group_id: int,
        number: str,
        kind: GreetingType,
        member: Annotated[SignedIn, signed_in_form],
        file: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        """A refused file is said next to its form, in the visitor's language; the greeting there was stays."""
        language = member.visitor.language
        try:
            if file is None or not file.filename:
                raise InvalidInput("error.greeting_file_missing", "file")
            greetings.upload(member.principal, group_id, number, kind, file.file)
        except InvalidInput as error:
            status, refusal = 422, error.message(language)
        except AudioConversionError:
            status, refusal = 503, translate(language, "error.audio_unavailable")
        else:
            return page.render(member, group_id, number, LineTab.VOICEMAIL, greeting_saved=kind)
        return page.render(member, group_id, number, LineTab.VOICEMAIL, status=status, greeting_errors={kind: refusal})

    @router.post(f"{GREETING_ROUTE}/delete")
    def delete_greeting(
        group_id: int, number: str, kind: GreetingType, member: Annotated[SignedIn, signed_in_form]
    ) -> Response:
        greetings.delete(member.principal, group_id, number, kind)
        return back_to_tab(group_id, number)

    @router.post(f"{LINE_ROUTE}/{VOICEMAIL_SETTINGS}")
    def change_settings(
        group_id: int,
        number: str,
        member: Annotated[SignedIn, signed_in_form],
        active: Annotated[bool, Form()] = False,
        greeting_type: Annotated[str, Form()] = GreetingType.DEFAULT.value,
        do_not_record: Annotated[bool, Form()] = False,
        audio_format: Annotated[str, Form()] = AudioFormat.WAV.value,
        max_message_seconds: Annotated[str, Form()] = "",
        recipients: Annotated[str, Form()] = "",
        attach_audio: Annotated[bool, Form()] = False,
        pin: Annotated[str, Form()] = "",
    ) -> Response:
        """Every field at once, as the form shows them; an error re-shows the form as typed, changing nothing."""
        typed = {
            "active": active,
            "greeting_type": greeting_type,
            "do_not_record": do_not_record,
            "audio_format": audio_format,
            "max_message_seconds": max_message_seconds,
            "recipients": recipients,
            "attach_audio": attach_audio,
        }
        try:
            changes: dict[str, object] = {
                "active": active,
                "greeting_type": _choice(GreetingType, greeting_type, "greeting_type"),
                "do_not_record": do_not_record,
                "audio_format": _choice(AudioFormat, audio_format, "audio_format"),
                "max_message_seconds": _seconds(max_message_seconds),
                "recipients": [Recipient(email, attach_audio) for email in recipients.split() if email],
            }
            if pin:
                changes["pin"] = pin
            settings.update(member.principal, group_id, number, changes)
        except InvalidInput as error:
            return page.render(
                member,
                group_id,
                number,
                LineTab.VOICEMAIL,
                status=422,
                settings_form=typed,
                settings_errors={error.field: error.message(member.visitor.language)},
            )
        return page.render(member, group_id, number, LineTab.VOICEMAIL, settings_saved=True)

    return router


def _choice(choices: type[Choice], text: str, field: str) -> Choice:
    try:
        return choices(text)
    except ValueError:
        raise InvalidInput("error.value_invalid", field) from None


def _wav(path: Path, filename: str, download: bool = False) -> FileResponse:
    """A stored WAV file, played in the page (byte ranges, so the player can seek) or downloaded."""
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=filename,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": "private, no-store"},
    )


def _seconds(text: str) -> int:
    low, high = MESSAGE_SECONDS_RANGE
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise InvalidInput("error.message_length_range", "max_message_seconds", min=low, max=high)
    return int(text)
