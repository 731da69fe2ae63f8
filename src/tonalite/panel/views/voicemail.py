"""A line's "Répondeur" tab: its messages, to play, download, mark read and delete, and its settings."""

# No `from __future__ import annotations`: FastAPI must evaluate the Annotated dependencies, which name
# this closure's local variables.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import FileResponse, RedirectResponse

from tonalite.panel.paths import LINE_ROUTE, VOICEMAIL_MESSAGE, VOICEMAIL_SETTINGS, LineTab, line_path
from tonalite.panel.routing import Panel
from tonalite.panel.session import SignedIn
from tonalite.panel.views.line_page import LinePage
from tonalite.services.errors import InvalidInput
from tonalite.services.voicemail_settings import MESSAGE_SECONDS_RANGE, Recipient
from tonalite.store.models import AudioFormat, MessageFolder

MESSAGE_ROUTE = f"{LINE_ROUTE}/{VOICEMAIL_MESSAGE}"


def routes(panel: Panel) -> APIRouter:
    router = panel.router()
    voicemail = panel.services.voicemail
    settings = panel.services.voicemail_settings
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
        return FileResponse(
            voicemail.audio_path(message.box_id, message.id),
            media_type="audio/wav",
            filename=f"message-{message.id}.wav",
            content_disposition_type="attachment" if download else "inline",
            headers={"Cache-Control": "private, no-store"},
        )

    @router.post(f"{MESSAGE_ROUTE}/read")
    def mark_read(group_id: int, number: str, message_id: int, member: Annotated[SignedIn, signed_in_form]) -> Response:
        voicemail.move(member.principal, group_id, number, message_id, MessageFolder.SAVED)
        return back_to_tab(group_id, number)

    @router.post(f"{MESSAGE_ROUTE}/delete")
    def delete(group_id: int, number: str, message_id: int, member: Annotated[SignedIn, signed_in_form]) -> Response:
        voicemail.delete(member.principal, group_id, number, message_id)
        return back_to_tab(group_id, number)

    @router.post(f"{LINE_ROUTE}/{VOICEMAIL_SETTINGS}")
    def change_settings(
        group_id: int,
        number: str,
        member: Annotated[SignedIn, signed_in_form],
        active: Annotated[bool, Form()] = False,
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
            "do_not_record": do_not_record,
            "audio_format": audio_format,
            "max_message_seconds": max_message_seconds,
            "recipients": recipients,
            "attach_audio": attach_audio,
        }
        try:
            changes: dict[str, object] = {
                "active": active,
                "do_not_record": do_not_record,
                "audio_format": _audio_format(audio_format),
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


def _audio_format(text: str) -> AudioFormat:
    try:
        return AudioFormat(text)
    except ValueError:
        raise InvalidInput("error.value_invalid", "audio_format") from None


def _seconds(text: str) -> int:
    low, high = MESSAGE_SECONDS_RANGE
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise InvalidInput("error.message_length_range", "max_message_seconds", min=low, max=high)
    return int(text)
