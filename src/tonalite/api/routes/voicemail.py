"""A line's voicemail: its messages, listed, read, moved between folders, played (byte ranges, so that a
browser can seek) and deleted; its settings; and its greetings, uploaded, played and deleted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Query, Response, UploadFile
from fastapi import Path as PathParameter
from fastapi.responses import FileResponse

from tonalite.api.routing import GroupId, LineNumber, MessageId, api_router
from tonalite.api.schemas import (
    ErrorBody,
    ItemList,
    VoicemailGreetingResource,
    VoicemailMessageChanges,
    VoicemailMessageResource,
    VoicemailSettingsChanges,
    VoicemailSettingsResource,
)
from tonalite.api.security import Authenticated
from tonalite.app import Services
from tonalite.services.audio_files import AudioConversionError, encode_mp3
from tonalite.services.principal import Principal
from tonalite.services.voicemail_greetings import GREETING_MS, MAX_UPLOAD_BYTES
from tonalite.services.voicemail_settings import Recipient, VoicemailSettings
from tonalite.store.models import AudioFormat, GreetingType

GreetingKind = Annotated[
    GreetingType, PathParameter(description="full, short or temporary (the default greeting is built in: 404).")
]
UPLOAD_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (413, f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"),
        (415, "The file is not WAV, MP3 or Ogg Vorbis audio"),
        (503, "The audio converter (sox) is not available"),
    ]
}
UPLOAD_DESCRIPTION = (
    "Make the file (multipart/form-data field `file`) the line's greeting of this kind, replacing the one there "
    "was; `greetingType` in the settings chooses which greeting callers hear. The audio is stored as 8 kHz mono "
    "WAV and must last from {} to {} seconds. A refused file changes nothing."
).format(*(ms // 1000 for ms in GREETING_MS))


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    router = api_router("/billing-groups/{group}/lines/{number}/voicemail", "voicemail")
    voicemail = services.voicemail
    settings = services.voicemail_settings
    greetings = services.voicemail_greetings

    @router.get("/settings")
    def get_settings(
        group: GroupId, number: LineNumber, principal: Principal = Depends(authenticated)
    ) -> VoicemailSettingsResource:
        return _resource(settings.get(principal, group, number))

    @router.patch("/settings")
    def change_settings(
        group: GroupId,
        number: LineNumber,
        changes: VoicemailSettingsChanges,
        principal: Principal = Depends(authenticated),
    ) -> VoicemailSettingsResource:
        """Only the fields sent change, all together or none; `pin` is write-only (`pinSet` tells if one is set)."""
        given = changes.model_dump(exclude_unset=True)
        if changes.recipients is not None:
            given["recipients"] = [Recipient(r.email, r.attach_audio) for r in changes.recipients]
        return _resource(settings.update(principal, group, number, given))

    @router.get("/messages")
    def list_messages(
        group: GroupId, number: LineNumber, principal: Principal = Depends(authenticated)
    ) -> ItemList[VoicemailMessageResource]:
        """New messages first, then saved ones; newest first in each folder."""
        messages = voicemail.messages(principal, group, number)
        return ItemList(items=[VoicemailMessageResource.of(message) for message in messages])

    @router.get("/messages/{message}")
    def get_message(
        group: GroupId, number: LineNumber, message: MessageId, principal: Principal = Depends(authenticated)
    ) -> VoicemailMessageResource:
        return VoicemailMessageResource.of(voicemail.message(principal, group, number, message))

    @router.patch("/messages/{message}")
    def change_message(
        group: GroupId,
        number: LineNumber,
        message: MessageId,
        changes: VoicemailMessageChanges,
        principal: Principal = Depends(authenticated),
    ) -> VoicemailMessageResource:
        """`{"folder": "saved"}` marks a message read; `"new"` marks it unread again."""
        return VoicemailMessageResource.of(voicemail.move(principal, group, number, message, changes.folder))

    @router.get("/messages/{message}/audio", response_class=FileResponse)
    async def message_audio(
        group: GroupId,
        number: LineNumber,
        message: MessageId,
        principal: Principal = Depends(authenticated),
        audio_format: AudioFormat = Query(AudioFormat.WAV, alias="format"),
    ) -> Response:
        """The message as 8 kHz mono WAV (`Range` requests get 206 with the bytes asked for), or `?format=mp3`."""
        found = await asyncio.to_thread(voicemail.message, principal, group, number, message)
        path = voicemail.audio_path(found.box_id, found.id)
        headers = {"Cache-Control": "private, no-store"}
        if audio_format == AudioFormat.MP3:
            try:
                encoded = await encode_mp3(path)
            except AudioConversionError as error:
                raise HTTPException(503, "The MP3 encoder is not available.") from error
            disposition = f'inline; filename="message-{found.id}.mp3"'
            return Response(encoded, media_type="audio/mpeg", headers={**headers, "Content-Disposition": disposition})
        return _wav(path, f"message-{found.id}.wav")

    @router.delete("/messages/{message}", status_code=204, response_class=Response)
    def delete_message(
        group: GroupId, number: LineNumber, message: MessageId, principal: Principal = Depends(authenticated)
    ) -> Response:
        voicemail.delete(principal, group, number, message)
        return Response(status_code=204)

    @router.put("/greetings/{kind}", responses=UPLOAD_ERRORS, description=UPLOAD_DESCRIPTION)
    def upload_greeting(
        group: GroupId,
        number: LineNumber,
        kind: GreetingKind,
        file: Annotated[UploadFile, File(description="WAV, MP3 or Ogg Vorbis audio, any rate and channel count.")],
        principal: Principal = Depends(authenticated),
    ) -> VoicemailGreetingResource:
        try:
            greeting = greetings.upload(principal, group, number, kind, file.file)
        except AudioConversionError as error:
            raise HTTPException(503, "The audio converter is not available.") from error
        return VoicemailGreetingResource.of(greeting)

    @router.get("/greetings/{kind}", response_class=FileResponse)
    def greeting_audio(
        group: GroupId, number: LineNumber, kind: GreetingKind, principal: Principal = Depends(authenticated)
    ) -> Response:
        """The greeting as 8 kHz mono WAV (`Range` requests get 206 with the bytes asked for)."""
        return _wav(greetings.audio_path(principal, group, number, kind), f"greeting-{kind.value}.wav")

    @router.delete("/greetings/{kind}", status_code=204, response_class=Response)
    def delete_greeting(
        group: GroupId, number: LineNumber, kind: GreetingKind, principal: Principal = Depends(authenticated)
    ) -> Response:
        """Delete the greeting, if there is one; if it was the selected type, callers hear the default one."""
        greetings.delete(principal, group, number, kind)
        return Response(status_code=204)

    return router


def _wav(path: Path, filename: str) -> FileResponse:
    """A stored WAV file, played in place; byte ranges served, so that a player can seek."""
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=filename,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-store"},
    )


def _resource(found: VoicemailSettings) -> VoicemailSettingsResource:
    return VoicemailSettingsResource.model_validate(
        {**{name: getattr(found, name) for name in found.__slots__}, "recipients": list(found.recipients)}
    )
