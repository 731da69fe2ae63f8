"""What the node answers to a caller's SDP offer when it takes the call itself: one G.711 codec (the caller's
first), telephone-event when offered, every other stream refused."""

from __future__ import annotations

from tonalite.calls.local_media import local_answer, local_offer, offer_terms
from tonalite.media.g711 import PCMA, PCMU
from tonalite.sip.sdp import SessionDescription


def _offer(*media: str) -> SessionDescription:
    head = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    return SessionDescription.parse((head + "".join(media)).encode())


AUDIO = (
    "m=audio 40000 RTP/AVP 8 0 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)
VIDEO = "m=video 40002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"


def test_the_callers_first_g711_codec_and_its_telephone_event() -> None:
    terms = offer_terms(_offer(AUDIO))
    assert terms is not None
    assert (terms.codec, terms.telephone_event, terms.remote) == (PCMA, 101, ("192.0.2.10", 40000))
    only_pcmu = offer_terms(_offer("m=audio 40000 RTP/AVP 0\r\n"))  # a static type needs no rtpmap
    assert only_pcmu is not None and (only_pcmu.codec, only_pcmu.telephone_event) == (PCMU, None)


def test_an_offer_without_g711_audio_has_no_terms() -> None:
    assert offer_terms(_offer("m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")) is None
    assert offer_terms(_offer(VIDEO)) is None
    assert offer_terms(_offer("m=audio 0 RTP/AVP 0\r\n")) is None


def test_the_answer_names_one_codec_on_our_port_and_refuses_the_rest() -> None:
    offer = _offer(VIDEO, AUDIO)
    terms = offer_terms(offer)
    assert terms is not None
    answer = local_answer(offer, terms, "198.51.100.1", 20_000)
    video, audio = answer.media
    assert video.port == 0
    assert (audio.port, audio.formats) == (20_000, ("8", "101"))
    assert answer.connection is not None and answer.connection.address == "198.51.100.1"
    assert offer_terms(answer) is not None  # what we answer is itself something we could take


def test_our_offer_to_a_caller_that_made_none_lists_both_laws_and_telephone_event() -> None:
    offer = SessionDescription.parse(local_offer("192.0.2.1", 10002).serialise())
    (audio,) = offer.media
    assert (audio.port, audio.formats) == (10002, ("8", "0", "101"))
    terms = offer_terms(offer)  # as a caller's answer choosing the first would be read
    assert terms is not None
    assert (terms.codec, terms.telephone_event, terms.remote) == (PCMA, 101, ("192.0.2.1", 10002))
