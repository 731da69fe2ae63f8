"""The snapshot of a line's options row that the features decide on."""

from __future__ import annotations

from tonalite.features.call_options import CallOptions, Forward
from tonalite.store.models import ForwardNature, LineOptions


def test_a_snapshot_of_the_row() -> None:
    row = LineOptions(
        forward_unconditional=True,
        forward_unconditional_number="+33999001234",
        forward_unconditional_nature=ForwardNature.NUMBER,
        forward_no_reply=False,
        forward_no_reply_number="+33140506070",
        forward_no_reply_nature=ForwardNature.LINE,
        forward_no_reply_delay=35,
        forward_busy=True,
        forward_busy_number="",
        forward_busy_nature=ForwardNature.VOICEMAIL,
        forward_backup=False,
        forward_backup_number="",
        forward_backup_nature=ForwardNature.NUMBER,
        do_not_disturb=True,
        absent_subscriber=False,
        anonymous_call_rejection=True,
        identification_restriction=False,
        call_waiting=False,
        lock_out_call=True,
        display_number="+33999001000",
    )
    assert CallOptions.of(row) == CallOptions(
        forward_unconditional=Forward(True, "+33999001234", ForwardNature.NUMBER),
        forward_no_reply=Forward(False, "+33140506070", ForwardNature.LINE),
        forward_no_reply_delay=35,
        forward_busy=Forward(True, "", ForwardNature.VOICEMAIL),
        forward_backup=Forward(False, "", ForwardNature.NUMBER),
        do_not_disturb=True,
        absent_subscriber=False,
        identification_restriction=False,
        anonymous_call_rejection=True,
        call_waiting=False,
        lock_out_call=True,
        display_number="+33999001000",
    )
