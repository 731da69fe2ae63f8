"""Star codes: every code of the table parsed (with its # escaped or left out), malformed ones with their
fault, and what each does to a line's options and says to the caller."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tonalite.features.call_options import CallOptions, Forward
from tonalite.features.feature_codes import (
    Action,
    CancelForwards,
    CodeOutcome,
    Destination,
    Fault,
    Feature,
    FeatureCode,
    MalformedCode,
    OptionValue,
    ParsedCode,
    Presentation,
    PresentedCall,
    apply_feature_code,
    parse_feature_code,
)
from tonalite.prompts import LANGUAGES, prompt_path
from tonalite.services.line_options import EDITABLE
from tonalite.store.models import ForwardNature, Language

NUMBER = "+33999001234"
OTHER = "+33140506070"
PIN = "1234"
TO_NUMBER = Destination(ForwardNature.NUMBER, NUMBER)
TO_VOICEMAIL = Destination(ForwardNature.VOICEMAIL)
UNCONDITIONAL, NO_REPLY, BUSY = Feature.FORWARD_UNCONDITIONAL, Feature.FORWARD_NO_REPLY, Feature.FORWARD_BUSY
FLAGS = {
    "24": Feature.ABSENT_SUBSCRIBER,
    "26": Feature.DO_NOT_DISTURB,
    "31": Feature.IDENTIFICATION_RESTRICTION,
    "82": Feature.ANONYMOUS_CALL_REJECTION,
}
ACTIONS = {"*": Action.ACTIVATE, "#": Action.DEACTIVATE, "*#": Action.QUERY, "**": Action.TOGGLE}


def _every_action(service: str, feature: Feature) -> list[tuple[str, ParsedCode]]:
    return [(f"{prefix}{service}#", FeatureCode(feature, action)) for prefix, action in ACTIONS.items()]


@pytest.mark.parametrize(
    ("dialled", "parsed"),
    [
        ("*21*0999001234#", FeatureCode(UNCONDITIONAL, Action.ACTIVATE, TO_NUMBER)),
        ("*21*+33999001234#", FeatureCode(UNCONDITIONAL, Action.ACTIVATE, TO_NUMBER)),
        ("*21*0033999001234#", FeatureCode(UNCONDITIONAL, Action.ACTIVATE, TO_NUMBER)),
        (
            "*21*+441632960961#",
            FeatureCode(UNCONDITIONAL, Action.ACTIVATE, Destination(ForwardNature.NUMBER, "+441632960961")),
        ),
        ("*21*123#", FeatureCode(UNCONDITIONAL, Action.ACTIVATE, TO_VOICEMAIL)),
        *_every_action("21", UNCONDITIONAL),
        ("*61*0999001234#", FeatureCode(NO_REPLY, Action.ACTIVATE, TO_NUMBER)),
        ("*61*0999001234*30#", FeatureCode(NO_REPLY, Action.ACTIVATE, TO_NUMBER, delay_s=30)),
        ("*61*0999001234*5#", FeatureCode(NO_REPLY, Action.ACTIVATE, TO_NUMBER, delay_s=5)),
        ("*61*0999001234*120#", FeatureCode(NO_REPLY, Action.ACTIVATE, TO_NUMBER, delay_s=120)),
        ("*61*123*20#", FeatureCode(NO_REPLY, Action.ACTIVATE, TO_VOICEMAIL, delay_s=20)),
        *_every_action("61", NO_REPLY),
        ("*69*0999001234#", FeatureCode(BUSY, Action.ACTIVATE, TO_NUMBER)),
        *_every_action("69", BUSY),
        *[row for service, feature in FLAGS.items() for row in _every_action(service, feature)],
        ("*33*1234#", FeatureCode(Feature.LOCK_OUT_CALL, Action.ACTIVATE, pin=PIN)),
        ("#33*1234#", FeatureCode(Feature.LOCK_OUT_CALL, Action.DEACTIVATE, pin=PIN)),
        ("*#33*1234#", FeatureCode(Feature.LOCK_OUT_CALL, Action.QUERY, pin=PIN)),
        ("#002", CancelForwards()),
        ("#002#", CancelForwards()),
        ("36510999001234", PresentedCall("0999001234", Presentation.HIDDEN)),
        ("36520999001234", PresentedCall("0999001234", Presentation.SHOWN)),
        ("3651+441632960961", PresentedCall("+441632960961", Presentation.HIDDEN)),
        # the closing # escaped once more, or left out
        ("*21*09 99 00 12 34#", FeatureCode(UNCONDITIONAL, Action.ACTIVATE, TO_NUMBER)),  # as the dial plan
        ("*21*0999001234%23", FeatureCode(UNCONDITIONAL, Action.ACTIVATE, TO_NUMBER)),
        ("%2321%23", FeatureCode(UNCONDITIONAL, Action.DEACTIVATE)),
        ("*%2321%23", FeatureCode(UNCONDITIONAL, Action.QUERY)),
        ("%23002", CancelForwards()),
        ("*21*0999001234", FeatureCode(UNCONDITIONAL, Action.ACTIVATE, TO_NUMBER)),
        ("*21", FeatureCode(UNCONDITIONAL, Action.ACTIVATE)),
        ("#21", FeatureCode(UNCONDITIONAL, Action.DEACTIVATE)),
        ("*#21", FeatureCode(UNCONDITIONAL, Action.QUERY)),
        ("**21", FeatureCode(UNCONDITIONAL, Action.TOGGLE)),
        ("*61*0999001234*30", FeatureCode(NO_REPLY, Action.ACTIVATE, TO_NUMBER, delay_s=30)),
        ("*26", FeatureCode(Feature.DO_NOT_DISTURB, Action.ACTIVATE)),
        ("*33*1234", FeatureCode(Feature.LOCK_OUT_CALL, Action.ACTIVATE, pin=PIN)),
    ],
)
def test_codes(dialled: str, parsed: ParsedCode) -> None:
    assert parse_feature_code(dialled) == parsed


@pytest.mark.parametrize("dialled", ["0999001234", "+33999001234", "123", "", "365", "1234", "sip", "36"])
def test_what_is_no_code_goes_to_the_dial_plan(dialled: str) -> None:
    assert parse_feature_code(dialled) is None


@pytest.mark.parametrize(
    ("dialled", "fault"),
    [
        ("*21*12#", Fault.NUMBER),
        ("*21*abc#", Fault.NUMBER),
        ("*21*#", Fault.NUMBER),
        ("*21*\u0660\u0669\u0669\u0669\u0660\u0660\u0661\u0662\u0663\u0664#", Fault.NUMBER),  # Arabic-Indic figures
        ("*69*+#", Fault.NUMBER),
        ("*61*abc*30#", Fault.NUMBER),
        ("3651", Fault.NUMBER),
        ("*61*0999001234*4#", Fault.DELAY),
        ("*61*0999001234*121#", Fault.DELAY),
        ("*61*0999001234*0#", Fault.DELAY),
        ("*61*0999001234*0030#", Fault.DELAY),
        ("*61*0999001234*#", Fault.DELAY),
        ("*61*0999001234*3x#", Fault.DELAY),
        ("*61*0999001234*\uff13\uff10#", Fault.DELAY),  # full-width figures
        ("*33*123#", Fault.PIN),
        ("*33*12345#", Fault.PIN),
        ("*33*12a4#", Fault.PIN),
        ("*33#", Fault.PIN),
        ("#33#", Fault.PIN),
        ("*#33#", Fault.PIN),
        ("*33*1234*1234#", Fault.PIN),
        ("**33*1234#", Fault.UNKNOWN_CODE),  # the lock has no toggle
        ("*99#", Fault.UNKNOWN_CODE),
        ("*2#", Fault.UNKNOWN_CODE),
        ("*211#", Fault.UNKNOWN_CODE),
        ("*\uff12\uff11#", Fault.UNKNOWN_CODE),
        ("*21*0999001234*30#", Fault.UNKNOWN_CODE),  # a delay for no reply only
        ("*61*0999001234*30*1#", Fault.UNKNOWN_CODE),
        ("#21*0999001234#", Fault.UNKNOWN_CODE),
        ("*#21*0999001234#", Fault.UNKNOWN_CODE),
        ("**21*0999001234#", Fault.UNKNOWN_CODE),
        ("*26*1#", Fault.UNKNOWN_CODE),
        ("*21#0999001234", Fault.UNKNOWN_CODE),
        ("*21##", Fault.UNKNOWN_CODE),
        ("##21#", Fault.UNKNOWN_CODE),
        ("#0021", Fault.UNKNOWN_CODE),
        ("*", Fault.UNKNOWN_CODE),
        ("#", Fault.UNKNOWN_CODE),
        ("**", Fault.UNKNOWN_CODE),
        ("*#", Fault.UNKNOWN_CODE),
        ("*21" + "*1" * 1000 + "#", Fault.UNKNOWN_CODE),
    ],
)
def test_malformed_codes(dialled: str, fault: Fault) -> None:
    assert parse_feature_code(dialled) == MalformedCode(dialled.replace("%23", "#"), fault)


def _pin_check(pin: str) -> bool:
    return pin == PIN


LAST = CallOptions(forward_unconditional=Forward(False, OTHER), forward_no_reply=Forward(False, OTHER))
ON = CallOptions(
    forward_unconditional=Forward(True, OTHER),
    forward_no_reply=Forward(True, OTHER),
    forward_no_reply_delay=120,
    forward_busy=Forward(True, OTHER),
    forward_backup=Forward(True, OTHER),
    do_not_disturb=True,
    absent_subscriber=True,
    identification_restriction=True,
    anonymous_call_rejection=True,
    lock_out_call=True,
)
OFF = CallOptions()
TO_OTHERS_BOX = CallOptions(forward_busy=Forward(True, OTHER, ForwardNature.VOICEMAIL))
TO_OWN_BOX = CallOptions(forward_unconditional=Forward(True, "", ForwardNature.VOICEMAIL))


def _on(feature: Feature, number: str, nature: ForwardNature = ForwardNature.NUMBER) -> dict[str, OptionValue]:
    return {feature.value: True, f"{feature.value}_number": number, f"{feature.value}_nature": nature}


def _flag_rows(
    service: str, feature: Feature
) -> list[tuple[str, CallOptions, dict[str, OptionValue], tuple[str, ...]]]:
    on, off = (f"code_{feature.value}", "code_is_on"), (f"code_{feature.value}", "code_is_off")
    return [
        (f"*{service}#", OFF, {feature.value: True}, on),
        (f"#{service}#", ON, {feature.value: False}, off),
        (f"*#{service}#", ON, {}, on),
        (f"*#{service}#", OFF, {}, off),
        (f"**{service}#", OFF, {feature.value: True}, on),
        (f"**{service}#", ON, {feature.value: False}, off),
    ]


U = ("code_forward_unconditional",)
N = ("code_forward_no_reply",)
B = ("code_forward_busy",)
LOCK = ("code_lock_out_call",)


@pytest.mark.parametrize(
    ("dialled", "options", "changes", "prompts", "number"),
    [
        ("*21*0999001234#", OFF, _on(UNCONDITIONAL, NUMBER), (*U, "code_is_on_to"), NUMBER),
        ("*21*0999001234#", ON, _on(UNCONDITIONAL, NUMBER), (*U, "code_is_on_to"), NUMBER),
        ("*21#", LAST, _on(UNCONDITIONAL, OTHER), (*U, "code_is_on_to"), OTHER),
        ("*21#", OFF, {}, ("code_no_forward_number",), ""),
        ("*21#", TO_OTHERS_BOX, {}, ("code_no_forward_number",), ""),
        (
            "*21#",
            replace(OFF, forward_unconditional=Forward(False, OTHER, ForwardNature.LINE)),
            _on(UNCONDITIONAL, OTHER, ForwardNature.LINE),
            (*U, "code_is_on_to"),
            OTHER,
        ),
        (
            "*21#",
            replace(TO_OWN_BOX, forward_unconditional=Forward(False, "", ForwardNature.VOICEMAIL)),
            _on(UNCONDITIONAL, "", ForwardNature.VOICEMAIL),
            (*U, "code_is_on_to", "code_your_voicemail"),
            "",
        ),
        (
            "*21*123#",
            LAST,
            _on(UNCONDITIONAL, "", ForwardNature.VOICEMAIL),
            (*U, "code_is_on_to", "code_your_voicemail"),
            "",
        ),
        ("#21#", ON, {"forward_unconditional": False}, (*U, "code_is_off"), ""),
        ("#21#", OFF, {"forward_unconditional": False}, (*U, "code_is_off"), ""),
        ("*#21#", ON, {}, (*U, "code_is_on_to"), OTHER),
        ("*#21#", LAST, {}, (*U, "code_is_off"), ""),
        ("*#21#", TO_OWN_BOX, {}, (*U, "code_is_on_to", "code_your_voicemail"), ""),
        ("**21#", LAST, _on(UNCONDITIONAL, OTHER), (*U, "code_is_on_to"), OTHER),
        ("**21#", ON, {"forward_unconditional": False}, (*U, "code_is_off"), ""),
        ("**21#", OFF, {}, ("code_no_forward_number",), ""),
        (
            "*61*0999001234*30#",
            OFF,
            {**_on(NO_REPLY, NUMBER), "forward_no_reply_delay": 30},
            (*N, "code_is_on_after", "number_30", "code_seconds_to"),
            NUMBER,
        ),
        (
            "*61*0999001234#",
            OFF,
            _on(NO_REPLY, NUMBER),
            (*N, "code_is_on_after", "number_20", "code_seconds_to"),
            NUMBER,
        ),
        ("*61#", LAST, _on(NO_REPLY, OTHER), (*N, "code_is_on_after", "number_20", "code_seconds_to"), OTHER),
        ("*61#", OFF, {}, ("code_no_forward_number",), ""),
        (
            "*61*123*15#",
            OFF,
            {**_on(NO_REPLY, "", ForwardNature.VOICEMAIL), "forward_no_reply_delay": 15},
            (*N, "code_is_on_after", "number_15", "code_seconds_to", "code_your_voicemail"),
            "",
        ),
        ("#61#", ON, {"forward_no_reply": False}, (*N, "code_is_off"), ""),
        ("*#61#", ON, {}, (*N, "code_is_on_after", "number_1", "number_2", "number_0", "code_seconds_to"), OTHER),
        ("*#61#", OFF, {}, (*N, "code_is_off"), ""),
        ("**61#", ON, {"forward_no_reply": False}, (*N, "code_is_off"), ""),
        ("**61#", LAST, _on(NO_REPLY, OTHER), (*N, "code_is_on_after", "number_20", "code_seconds_to"), OTHER),
        ("*69*0999001234#", OFF, _on(BUSY, NUMBER), (*B, "code_is_on_to"), NUMBER),
        ("*69#", OFF, {}, ("code_no_forward_number",), ""),
        (
            "*69#",
            TO_OTHERS_BOX,
            _on(BUSY, OTHER, ForwardNature.VOICEMAIL),
            (*B, "code_is_on_to", "code_voicemail_of"),
            OTHER,
        ),
        ("#69#", ON, {"forward_busy": False}, (*B, "code_is_off"), ""),
        ("*#69#", ON, {}, (*B, "code_is_on_to"), OTHER),
        ("*#69#", TO_OTHERS_BOX, {}, (*B, "code_is_on_to", "code_voicemail_of"), OTHER),
        ("**69#", ON, {"forward_busy": False}, (*B, "code_is_off"), ""),
        (
            "#002",
            ON,
            {"forward_unconditional": False, "forward_no_reply": False, "forward_busy": False, "forward_backup": False},
            ("code_all_forwards_off",),
            "",
        ),
        *[(d, o, c, p, "") for service, feature in FLAGS.items() for d, o, c, p in _flag_rows(service, feature)],
        ("*33*1234#", OFF, {"lock_out_call": True}, (*LOCK, "code_is_on"), ""),
        ("*33*4321#", OFF, {}, ("voicemail_wrong_pin",), ""),
        ("#33*1234#", ON, {"lock_out_call": False}, (*LOCK, "code_is_off"), ""),
        ("#33*4321#", ON, {}, ("voicemail_wrong_pin",), ""),
        ("*#33*1234#", ON, {}, (*LOCK, "code_is_on"), ""),
        ("*#33*1234#", OFF, {}, (*LOCK, "code_is_off"), ""),
        ("*#33*4321#", ON, {}, ("voicemail_wrong_pin",), ""),
        ("*21*12#", OFF, {}, ("code_invalid",), ""),
        ("*61*0999001234*200#", OFF, {}, ("code_invalid",), ""),
        ("*33*12#", OFF, {}, ("code_invalid",), ""),
        ("*99#", ON, {}, ("code_invalid",), ""),
    ],
)
def test_what_a_code_changes_and_says(
    dialled: str, options: CallOptions, changes: dict[str, OptionValue], prompts: tuple[str, ...], number: str
) -> None:
    code = parse_feature_code(dialled)
    assert code is not None and not isinstance(code, PresentedCall)
    outcome = apply_feature_code(code, options, _pin_check)
    assert outcome == CodeOutcome(changes, prompts, number)
    assert set(outcome.changes) <= EDITABLE
    for language in LANGUAGES:
        for prompt_id in outcome.spoken(Language(language)):
            assert prompt_path(language, prompt_id).exists()


def test_a_line_without_a_lock_pin_cannot_be_locked() -> None:
    code = parse_feature_code("*33*0000#")
    assert code is not None and not isinstance(code, PresentedCall)
    assert apply_feature_code(code, OFF, lambda pin: False) == CodeOutcome({}, ("voicemail_wrong_pin",))


@pytest.mark.parametrize(
    ("language", "spoken"),
    [
        (
            Language.FR,
            [
                *U,
                "code_is_on_to",
                "number_0",
                "number_9",
                "number_99",
                "number_0",
                "number_0",
                "number_12",
                "number_34",
            ],
        ),
        (Language.EN, [*U, "code_is_on_to", *(f"number_{figure}" for figure in "0999001234")]),
    ],
)
def test_the_number_is_spoken_last(language: Language, spoken: list[str]) -> None:
    outcome = CodeOutcome({}, (*U, "code_is_on_to"), NUMBER)
    assert outcome.spoken(language) == spoken
