"""Anchored media on the wire: a phone behind NAT (its Contact and SDP name an address its packets do not come
from) gets its call's RTP relayed through the node, and so does every call with TONALITE_MEDIA_ANCHOR=always;
a phone that is not behind NAT talks to the other phone directly. sipp plays both phones and its traces show
the SDP each one received; tests/integration/test_softphones.py has baresip phones talk through the relay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.calling import caller, national, received, register
from tests.integration.conftest import Site, _site, with_phone_directories
from tests.peers.sipp import Sipp
from tests.peers.tonalite_server import free_port
from tonalite.sip.sdp import SessionDescription

PRIVATE_HOST = "192.0.2.10"
"""Where the phone behind NAT says it is (a documentation address, reachable by nobody)."""
NODE_HOST = "127.0.0.1"


@pytest.fixture
def anchoring_site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    env = {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5", "TONALITE_MEDIA_ANCHOR": "always"}  # MD5: sipp's only one
    yield from with_phone_directories(_site(sqlite_template, tmp_path, env))


def _call(site: Site, phone_host: str) -> tuple[SessionDescription, SessionDescription, int, int]:
    """Line 0 (its phone at `phone_host`, by its Contact and SDP) calls line 1 (sipp's UAS): the offer line 1's
    phone got, the answer line 0's phone got, and the RTP ports each phone wrote in its own SDP."""
    register(site, 0)
    callee_media, caller_media = free_port(), free_port()
    callee = Sipp(
        "call_uas",
        site.server.sip_port,
        site.work_dir / "line1",
        local_port=register(site, 1),
        extra=["-trace_msg", "-mp", str(callee_media)],
    ).start()
    calling = caller(site, "call_uac_behind_nat", national(site.lines[1]), substitutions={"PHONE_HOST": phone_host})
    calling.extra += ["-trace_msg", "-mp", str(caller_media)]
    placed, answered = calling.run(), callee.finish()
    assert placed.all_passed, placed.output
    assert answered.all_passed, answered.output
    (invite,) = received(callee, "INVITE ")
    (ok,) = received(calling, "SIP/2.0 200", cseq="2 INVITE")
    return SessionDescription.parse(invite.body), SessionDescription.parse(ok.body), caller_media, callee_media


def _where(sdp: SessionDescription) -> tuple[str, int]:
    (media,) = sdp.media
    connection = sdp.connection_for(media)
    assert connection is not None
    return connection.address, media.port


def test_a_phone_behind_nat_gets_its_media_relayed(phones: Site) -> None:
    offer, answer, caller_media, callee_media = _call(phones, PRIVATE_HOST)
    offer_host, offer_port = _where(offer)
    answer_host, answer_port = _where(answer)
    assert (offer_host, answer_host) == (NODE_HOST, NODE_HOST)
    relay_ports = {offer_port, answer_port}
    assert len(relay_ports) == 2 and not relay_ports & {caller_media, callee_media}
    assert all(port % 2 == 0 for port in relay_ports)  # RTP on even ports, their RTCP on the next odd one
    assert answer.media[0].formats == ("0",)  # the codecs still agreed end to end


def test_phones_not_behind_nat_send_to_each_other(phones: Site) -> None:
    offer, answer, caller_media, callee_media = _call(phones, NODE_HOST)
    assert _where(offer) == (NODE_HOST, caller_media)
    assert _where(answer) == (NODE_HOST, callee_media)


def test_every_call_is_relayed_when_the_node_anchors_always(anchoring_site: Site) -> None:
    offer, answer, caller_media, callee_media = _call(anchoring_site, NODE_HOST)
    assert _where(offer)[1] != caller_media
    assert _where(answer)[1] != callee_media
