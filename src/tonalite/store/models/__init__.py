"""Every model of the domain; importing this package registers them all on Base.metadata."""

from tonalite.store.models.accounts import Account, ApiToken, Language, OperatorUser, PanelSession
from tonalite.store.models.base import Base
from tonalite.store.models.billing import (
    AbbreviatedNumber,
    AliasNumber,
    BillingGroup,
    FeatureType,
    NumberStatus,
    PlatformNumber,
    Sound,
    SoundKind,
)
from tonalite.store.models.calls import CallDirection, CallRecord, CallResult
from tonalite.store.models.lines import (
    ChangeOrigin,
    ForwardNature,
    Line,
    LineOptionChange,
    LineOptions,
    Registration,
    RegistrationEvent,
    RegistrationEventKind,
    ScreenDirection,
    ScreenListEntry,
    ScreenListKind,
)
from tonalite.store.models.notifications import Notification, NotificationChannel, NotificationStatus
from tonalite.store.models.orders import Order, OrderItem, OrderKind, OrderStatus
from tonalite.store.models.portability import (
    PortabilityDocument,
    PortabilityNumber,
    PortabilityRequest,
    PortabilityStatus,
    PortabilityStep,
    StepStatus,
)
from tonalite.store.models.trunks import Trunk
from tonalite.store.models.voicemail import (
    AudioFormat,
    GreetingType,
    MessageFolder,
    VoicemailBox,
    VoicemailMessage,
    VoicemailRecipient,
)

__all__ = [
    "AbbreviatedNumber",
    "Account",
    "AliasNumber",
    "ApiToken",
    "AudioFormat",
    "Base",
    "BillingGroup",
    "CallDirection",
    "CallRecord",
    "CallResult",
    "ChangeOrigin",
    "FeatureType",
    "ForwardNature",
    "GreetingType",
    "Language",
    "Line",
    "LineOptionChange",
    "LineOptions",
    "MessageFolder",
    "Notification",
    "NotificationChannel",
    "NotificationStatus",
    "NumberStatus",
    "OperatorUser",
    "Order",
    "OrderItem",
    "OrderKind",
    "OrderStatus",
    "PanelSession",
    "PlatformNumber",
    "PortabilityDocument",
    "PortabilityNumber",
    "PortabilityRequest",
    "PortabilityStatus",
    "PortabilityStep",
    "Registration",
    "RegistrationEvent",
    "RegistrationEventKind",
    "ScreenDirection",
    "ScreenListEntry",
    "ScreenListKind",
    "Sound",
    "SoundKind",
    "StepStatus",
    "Trunk",
    "VoicemailBox",
    "VoicemailMessage",
    "VoicemailRecipient",
]
