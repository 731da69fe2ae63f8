"""The API's request and response bodies: camelCase on the wire, separate from the ORM models.

Field names are the snake_case names of the services and models; the alias generator gives the wire names, so a
request body dumped with `by_alias=False` is ready for the services as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    computed_field,
)
from pydantic.alias_generators import to_camel

from tonalite.services.line_options import MAX_LINES_AT_ONCE, NO_REPLY_DELAY_RANGE
from tonalite.services.voicemail_greetings import Greeting
from tonalite.services.voicemail_settings import MESSAGE_SECONDS_RANGE
from tonalite.sip.transport import Transport
from tonalite.store.models import (
    AbbreviatedNumber,
    AudioFormat,
    FeatureType,
    ForwardNature,
    GreetingType,
    Language,
    Line,
    MessageFolder,
    ScreenDirection,
    ScreenListKind,
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


def _number_as_text(value: object) -> object:
    """The reference operator API sends abbreviated numbers as JSON numbers: 7001 is read as "7001"."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ShortNumberText = Annotated[Text, BeforeValidator(_number_as_text)]


class AbbreviatedNumberResource(ResponseBody):
    """A short number of a billing group's list (7…, every line of the group may dial it) or of a line's (2…)."""

    abbreviated_number: str = Field(description="3 or 4 digits")
    destination_number: str = Field(description="E.164")
    surname: str
    name: str

    @classmethod
    def of(cls, entry: AbbreviatedNumber) -> AbbreviatedNumberResource:
        return cls(
            abbreviated_number=entry.short_number,
            destination_number=entry.destination_number,
            surname=entry.surname,
            name=entry.name,
        )


class SavedAbbreviatedNumber(AbbreviatedNumberResource):
    warning: str | None = Field(
        description="Advice about the number just saved, if any: 4 digits are better than 3, after which a phone "
        "waits a few seconds for a fourth digit before it calls."
    )


class AbbreviatedNumberChanges(RequestBody):
    destination_number: Text = Field(
        description="In any usual form (0199001002, +33199001002, 0033199001002); one without a country code is in "
        "the account's country. Stored in E.164."
    )
    surname: Text = ""
    name: Text = ""


class AbbreviatedNumberBody(AbbreviatedNumberChanges):
    abbreviated_number: ShortNumberText = Field(
        description="3 or 4 digits (4 recommended), starting with 7 in a billing group's list, 2 in a line's; a "
        "JSON string or number."
    )


class RejectedRowResource(ErrorBody):
    """A row of an imported file that was left out, and why."""

    line: int = Field(description="The row's line in the file, from 1")


class AbbreviatedImportResource(ResponseBody):
    added: int
    updated: int
    unchanged: int
    rejected: list[RejectedRowResource]


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


class LineOptionsBulkChanges(RequestBody):
    """The same changes for several lines of the billing group: made on all of them, or on none."""

    lines: list[Text] = Field(min_length=1, max_length=MAX_LINES_AT_ONCE, description="The lines' numbers.")
    changes: LineOptionsChanges


class LineOptionsOfLine(LineOptionsResource):
    number: str


class ScreenListEntryBody(RequestBody):
    direction: ScreenDirection
    kind: ScreenListKind
    number: Text = Field(
        description="A number, or with isPrefix a prefix: international (+3389, 003389) or national (0899, "
        "stored as +33899); stored in E.164."
    )
    is_prefix: StrictBool = False


class ScreenListEntryResource(ResponseBody):
    """A number or prefix on one of the line's screen lists."""

    id: int
    direction: ScreenDirection
    kind: ScreenListKind
    number: str = Field(description="E.164, or the start of E.164 numbers for a prefix")
    is_prefix: bool

    @computed_field(description="The reference operator API's name of the list: incomingWhiteList, …")  # type: ignore[prop-decorator]
    @property
    def screen_list_type(self) -> str:
        return f"{self.direction.value}{self.kind.value.removesuffix('list').title()}List"
