"""Requests inside an answered call, relayed by the B2BUA between two sipp phones: UPDATE (RFC 3311) with an
SDP offer and its answer, INFO (RFC 6086) with a DTMF body, each way the phones send them.

Re-INVITE (hold and resume) is in test_calls.py. Here the caller (line 0) sends an UPDATE offering
a=inactive and an INFO with an application/dtmf-relay body; the callee (line 1) answers the UPDATE with an
a=inactive answer and sends an INFO of its own back. The sipp scenarios check each message as it comes;
this test then reads both phones' message logs and checks what the platform made of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.calling import call_records, caller, national, received, register, with_phone_directories
from tests.integration.conftest import Site, _site
from tests.peers.sipp import Sipp

DTMF_5 = b"Signal=5\r\nDuration=160\r\n"
DTMF_HASH = b"Signal=#\r\nDuration=160\r\n"


@pytest.fixture
def phones(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    yield from with_phone_directories(
        _site(sqlite_template, tmp_path, {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5,SHA-256"})
    )


def test_update_and_info_are_relayed_inside_a_call(phones: Site) -> None:
    site = phones
    register(site, 0)
    callee_port = register(site, 1)
    callee = Sipp(
        "call_uas_update_info",
        site.server.sip_port,
        site.work_dir / "line1",
        local_port=callee_port,
        extra=["-trace_msg"],
    ).start()
    calling = caller(site, "call_uac_update_info", national(site.lines[1]))
    calling.extra.append("-trace_msg")
    placed = calling.run()
    answered = callee.finish()
    assert placed.all_passed, placed.output
    assert answered.all_passed, answered.output

    # The callee got the caller's UPDATE and INFO in its own dialog with the platform (its own Call-ID),
    # bodies and their types intact, CSeq numbered on from that dialog's INVITE (1).
    (invite, *_) = received(callee, "INVITE ")
    (update, *_) = received(callee, "UPDATE ")
    (info, *_) = received(callee, "INFO ")
    (caller_answer, *_) = received(calling, "SIP/2.0 200", "2 INVITE")
    assert update.header("Call-ID") == info.header("Call-ID") == invite.header("Call-ID")
    assert invite.header("Call-ID") != caller_answer.header("Call-ID")
    assert (update.header("CSeq"), info.header("CSeq")) == ("2 UPDATE", "3 INFO")
    assert update.header("Content-Type") == "application/sdp"
    assert update.header("Contact")  # UPDATE is a target refresh: RFC 3311 §5.1
    assert b"o=caller 53655765 2353687638 " in update.body and b"a=inactive" in update.body
    assert info.header("Content-Type") == "application/dtmf-relay"
    assert info.body == DTMF_5

    # The caller got the callee's 200s: the UPDATE's with the callee's SDP answer.
    (update_ok, *_) = received(calling, "SIP/2.0 200", "3 UPDATE")
    (info_ok, *_) = received(calling, "SIP/2.0 200", "4 INFO")
    assert update_ok.header("Content-Type") == "application/sdp"
    assert update_ok.header("Contact")
    assert b"o=callee 1 2 " in update_ok.body and b"a=inactive" in update_ok.body
    assert info_ok.body == b""

    # And the other way: the callee's INFO reached the caller, in the caller's dialog, and its 200 came back.
    (callee_info, *_) = received(calling, "INFO ")
    assert callee_info.header("Call-ID") == caller_answer.header("Call-ID")
    assert callee_info.header("Content-Type") == "application/dtmf-relay"
    assert callee_info.body == DTMF_HASH
    assert received(callee, "SIP/2.0 200", "1 INFO")

    (record,) = call_records(site, 1)
    assert record.result is not None and record.result.value == "answered"
    assert record.sip_code == 200
