"""Requests inside an answered call, relayed by the B2BUA between two sipp phones: UPDATE (RFC 3311) with an
SDP offer and its answer, INFO (RFC 6086) with a DTMF body, each way the phones send them, and the info
packages each phone accepts (Recv-Info) and an INFO belongs to (Info-Package).

Re-INVITE (hold and resume) is in test_calls.py. Here the caller (line 0) calls saying it accepts the dtmf
info package, sends an UPDATE offering a=inactive, a legacy INFO with an application/dtmf-relay body and an
INFO of the dtmf package; the callee (line 1) answers the INVITE and the UPDATE saying it accepts the dtmf
package too, the UPDATE with an a=inactive answer, and sends a legacy INFO of its own back. The sipp
scenarios check each message as it comes; this test then reads both phones' message logs and checks what
the platform made of them.
"""

from __future__ import annotations

from tests.integration.calling import call_records, place_call, received, register
from tests.integration.conftest import Site

DTMF_5 = b"Signal=5\r\nDuration=160\r\n"
DTMF_HASH = b"Signal=#\r\nDuration=160\r\n"


def test_update_and_info_are_relayed_inside_a_call(phones: Site) -> None:
    site = phones
    register(site, 0)
    calling, callee = place_call(site, "call_uac_update_info", "call_uas_update_info", register(site, 1), trace=True)

    # The callee got the caller's UPDATE and INFOs in its own dialog with the platform (its own Call-ID),
    # bodies and their types intact, CSeq numbered on from that dialog's INVITE (1).
    (invite, *_) = received(callee, "INVITE ")
    (update, *_) = received(callee, "UPDATE ")
    (info, *_, package_info) = received(callee, "INFO ")
    (caller_answer, *_) = received(calling, "SIP/2.0 200", "2 INVITE")
    assert update.header("Call-ID") == info.header("Call-ID") == invite.header("Call-ID")
    assert invite.header("Call-ID") != caller_answer.header("Call-ID")
    assert (update.header("CSeq"), info.header("CSeq"), package_info.header("CSeq")) == ("2 UPDATE", "3 INFO", "4 INFO")
    assert update.header("Content-Type") == "application/sdp"
    assert update.header("Contact")  # UPDATE is a target refresh: RFC 3311 §5.1
    assert b"o=caller 53655765 2353687638 " in update.body and b"a=inactive" in update.body
    assert info.header("Content-Type") == "application/dtmf-relay"
    assert info.body == DTMF_5
    assert info.header("Info-Package") == info.header("Content-Disposition") == ""  # legacy: no package

    # The INFO of the dtmf package kept its package, and its body's type and disposition.
    assert package_info.header("Call-ID") == invite.header("Call-ID")
    assert package_info.header("Info-Package") == "dtmf"
    assert package_info.header("Content-Disposition") == "Info-Package"
    assert package_info.header("Content-Type") == "application/dtmf"
    assert package_info.body == b"7\r\n"

    # Each phone learnt the packages the other accepts: the caller's in the INVITE and the UPDATE, the
    # callee's in their 200s.
    (update_ok, *_) = received(calling, "SIP/2.0 200", "3 UPDATE")
    for message in (invite, update, caller_answer, update_ok):
        assert message.header("Recv-Info") == "dtmf", message.start_line

    # The caller got the callee's 200s: the UPDATE's with the callee's SDP answer.
    (info_ok, *_) = received(calling, "SIP/2.0 200", "4 INFO")
    assert update_ok.header("Content-Type") == "application/sdp"
    assert update_ok.header("Contact")
    assert b"o=callee 1 2 " in update_ok.body and b"a=inactive" in update_ok.body
    assert info_ok.body == b""
    assert received(calling, "SIP/2.0 200", "5 INFO")

    # And the other way: the callee's INFO reached the caller, in the caller's dialog, and its 200 came back.
    (callee_info, *_) = received(calling, "INFO ")
    assert callee_info.header("Call-ID") == caller_answer.header("Call-ID")
    assert callee_info.header("Content-Type") == "application/dtmf-relay"
    assert callee_info.body == DTMF_HASH
    assert received(callee, "SIP/2.0 200", "1 INFO")

    (record,) = call_records(site, 1)
    assert record.result is not None and record.result.value == "answered"
    assert record.sip_code == 200
