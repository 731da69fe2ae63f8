"""The API's request and response bodies: camelCase on the wire, separate from the ORM models.

Field names are the snake_case names of the services and models; the alias generator gives the wire names, so a
request body dumped with `by_alias=False` is ready for the services as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, computed_field
from pydantic.alias_generators import to_camel

from tonalite.services.line_options import NO_REPLY_DELAY_RANGE
from tonalite.services.voicemail_greetings import Greeting
from tonalite.services.voicemail_settings import MESSAGE_SECONDS_RANGE
from tonalite.sip.transport import Transport
from tonalite.store.models import (
    AudioFormat,
    FeatureType,
    ForwardNature,
    GreetingType,
    Language,
    Line,
    MessageFolder,
    VoicemailMessage,
)

T = TypeVar("T")


def _encodable(text: str) -> str:
    """JSON may carry lone surrogates, which no database column can store."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text") from None
    return text


Text = Annotated[str, AfterValidator(_encodable)]


class ResponseBody(BaseModel):
    """Read from the attributes of a model or a service's dataclass."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, from_attributes=True)


class RequestBody(BaseModel):
    """Only the camelCase names, and nothing else."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid")


class ErrorBody(ResponseBody):
    error: str
    message: str
    field: str | None = None


class ItemList(ResponseBody, Generic[T]):
    items: list[T]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return len(self.items)


class TokenRequest(RequestBody):
    login: Text
    password: Text


class Token(ResponseBody):
    token: str


class AccountResource(ResponseBody):
    id: int
    login: str
    company_name: str
    contact_email: str
    mobile_number: str | None
    language: Language
    country: str


class BillingGroupResource(ResponseBody):
    id: int
    description: str
    created_at: datetime


class AliasNumberResource(ResponseBody):
    number: str
    description: str
    feature_type: FeatureType


class LineResource(ResponseBody):
    number: str
    sip_username: str
    display_name: str
    plan: str
    simultaneous_calls: int
    sip_domain: str

    @classmethod
    def of(cls, line: Line, sip_domain: str) -> LineResource:
        return cls(
            number=line.number,
            sip_username=line.sip_username,
            display_name=line.display_name,
            plan=line.plan,
            simultaneous_calls=line.simultaneous_calls,
            sip_domain=sip_domain,
        )


class RegistrationResource(ResponseBody):
    """The device registered on a line: since when, until when, what it is and where it registered from."""

    contact: str
    user_agent: str
    source: str = Field(description="transport:host:port the REGISTER came from")
    transport: Transport
    registered_at: datetime
    expires_at: datetime


class VoicemailMessageResource(ResponseBody):
    """A message in a line's voicemail; its audio is at `…/messages/{id}/audio` (WAV, byte ranges served)."""

    id: int
    folder: MessageFolder = Field(description="new until listened to, then saved")
    caller: str = Field(description="the caller's number in E.164, empty when withheld")
    received_at: datetime
    duration: float = Field(description="seconds of audio")

    @classmethod
    def of(cls, message: VoicemailMessage) -> VoicemailMessageResource:
        return cls(
            id=message.id,
            folder=message.folder,
            caller=message.caller,
            received_at=message.received_at,
            duration=message.duration_ms / 1000,
        )


class VoicemailMessageChanges(RequestBody):
    folder: MessageFolder


class VoicemailRecipientBody(RequestBody):
    email: Text
    attach_audio: StrictBool = True


class VoicemailRecipientResource(ResponseBody):
    email: str
    attach_audio: bool


class VoicemailSettingsResource(ResponseBody):
    active: bool
    greeting_type: GreetingType
    do_not_record: bool = Field(description="greeting only: the caller hears the greeting, then the call ends")
    audio_format: AudioFormat = Field(description="of the audio attached to the notices")
    max_message_seconds: int
    recipients: list[VoicemailRecipientResource]
    pin_set: bool
    greetings: list[GreetingType] = Field(description="the greeting types with a recording")


class VoicemailGreetingResource(ResponseBody):
    """A greeting the owner recorded or uploaded; its audio is at `…/greetings/{kind}` (8 kHz mono WAV)."""

    kind: GreetingType
    duration: float = Field(description="seconds of audio")
    created_at: datetime

    @classmethod
    def of(cls, greeting: Greeting) -> VoicemailGreetingResource:
        return cls(kind=greeting.kind, duration=greeting.duration_ms / 1000, created_at=greeting.created_at)


class VoicemailSettingsChanges(RequestBody):
    """The settings to change, all others left as they are."""

    active: StrictBool | None = None
    greeting_type: GreetingType | None = None
    do_not_record: StrictBool | None = None
    audio_format: AudioFormat | None = None
    max_message_seconds: StrictInt | None = Field(
        default=None, description="Seconds, from {} to {}.".format(*MESSAGE_SECONDS_RANGE)
    )
    recipients: list[VoicemailRecipientBody] | None = Field(default=None, max_length=100)
    pin: Text | None = Field(
        default=None, description="4 digits, asked when the box is reached from another line; write-only."
    )


class LineChanges(RequestBody):
    display_name: Text


class LineCredentialsResource(ResponseBody):
    """Shown once, after a reset: only digest hashes of the password are kept."""

    number: str
    username: str
    password: str
    domain: str


class LineOptionsResource(ResponseBody):
    """A line's options; the lock PIN is write-only and never shown."""

    forward_unconditional: bool
    forward_unconditional_number: str
    forward_unconditional_nature: ForwardNature
    forward_no_reply: bool
    forward_no_reply_number: str
    forward_no_reply_nature: ForwardNature
    forward_no_reply_delay: int
    forward_busy: bool
    forward_busy_number: str
    forward_busy_nature: ForwardNature
    forward_backup: bool
    forward_backup_number: str
    forward_backup_nature: ForwardNature
    do_not_disturb: bool
    absent_subscriber: bool
    anonymous_call_rejection: bool
    identification_restriction: bool
    display_number: str
    call_waiting: bool
    lock_out_call: bool


class LineOptionsChanges(RequestBody):
    """The options to change, all others left as they are; a null number clears it."""

    forward_unconditional: StrictBool | None = None
    forward_unconditional_number: Text | None = None
    forward_unconditional_nature: ForwardNature | None = None
    forward_no_reply: StrictBool | None = None
    forward_no_reply_number: Text | None = None
    forward_no_reply_nature: ForwardNature | None = None
    forward_no_reply_delay: StrictInt | None = Field(
        default=None, description="Seconds, from {} to {}.".format(*NO_REPLY_DELAY_RANGE)
    )
    forward_busy: StrictBool | None = None
    forward_busy_number: Text | None = None
    forward_busy_nature: ForwardNature | None = None
    forward_backup: StrictBool | None = None
    forward_backup_number: Text | None = None
    forward_backup_nature: ForwardNature | None = None
    do_not_disturb: StrictBool | None = None
    absent_subscriber: StrictBool | None = None
    anonymous_call_rejection: StrictBool | None = None
    identification_restriction: StrictBool | None = None
    display_number: Text | None = Field(default=None, description="A number of the line's billing group.")
    call_waiting: StrictBool | None = None
    lock_out_call: StrictBool | None = None
    lock_out_call_password: Text | None = Field(
        default=None, description="4 digits, needed to lock outgoing calls; write-only."
    )
