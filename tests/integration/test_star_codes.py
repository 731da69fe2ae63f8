"""Star codes dialled on a line's registered phone (sipp): the node answers, changes the line's option as the
REST API then reads it, says what it did, and hangs up; a malformed code changes nothing and says so.

Every row of the star-code table is dialled. Each step of a sequence is a code, the options it changes (camelCase,
as the API shows them; the others must stay as they were, so a query changes nothing) and the prompts the caller
must hear. What the caller hears is checked on the RTP itself: the phone's SDP offers a UDP socket of the test,
which records what the node sends from the port its 200 answered with; the payload must be the µ-law of the
prompts' WAV files, one after another, with nothing but silence around them.

A call lasts as long as its confirmation (2.5 to 9 s), so each sequence plays one line's phone, and the sequences
of a test run at once on lines of their own.
"""

from __future__ import annotations

import re
import socket
import threading
import wave
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from tests.integration.calling import call_records, received, register
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp, users_file
from tests.peers.tonalite_server import ACCOUNT_LOGIN, ACCOUNT_PASSWORD, free_port
from tonalite.features.spoken import spoken_phone_number
from tonalite.media.g711 import encode_ulaw
from tonalite.prompts import prompt_path
from tonalite.store.models import Language

NUMBER = "+33999001234"
"""Dialled as 0999001234."""
OTHER_NUMBER = "+33999005678"
"""Dialled as 0999005678."""
PIN = "1234"

ON, OFF, ON_TO = "code_is_on", "code_is_off", "code_is_on_to"
UNCONDITIONAL, NO_REPLY, BUSY = "code_forward_unconditional", "code_forward_no_reply", "code_forward_busy"


def said(number: str) -> list[str]:
    return spoken_phone_number(number, Language.FR)


def no_reply_on(seconds: int, number: str) -> list[str]:
    """ "Le renvoi sur non-réponse est activé après N secondes, vers" the number."""
    return [NO_REPLY, "code_is_on_after", f"number_{seconds}", "code_seconds_to", *said(number)]


@dataclass(frozen=True, slots=True)
class Step:
    code: str
    changes: dict[str, Any]
    """The options that change (camelCase); every other one stays as it was."""
    prompts: list[str]


def flag_steps(service: str, option: str, prompt: str) -> list[Step]:
    """On, asked (nothing changes), toggled off, toggled on, off."""
    return [
        Step(f"*{service}#", {option: True}, [prompt, ON]),
        Step(f"*#{service}#", {}, [prompt, ON]),
        Step(f"**{service}#", {option: False}, [prompt, OFF]),
        Step(f"**{service}#", {option: True}, [prompt, ON]),
        Step(f"#{service}#", {option: False}, [prompt, OFF]),
    ]


FORWARDS: dict[str, list[Step]] = {
    "unconditional": [
        Step("*#21#", {}, [UNCONDITIONAL, OFF]),
        Step(
            "*21*0999001234#",
            {
                "forwardUnconditional": True,
                "forwardUnconditionalNumber": NUMBER,
                "forwardUnconditionalNature": "number",
            },
            [UNCONDITIONAL, ON_TO, *said(NUMBER)],
        ),
        Step("*#21#", {}, [UNCONDITIONAL, ON_TO, *said(NUMBER)]),
        Step("#21#", {"forwardUnconditional": False}, [UNCONDITIONAL, OFF]),  # the number is kept…
        Step("*21#", {"forwardUnconditional": True}, [UNCONDITIONAL, ON_TO, *said(NUMBER)]),  # …for *21#
    ],
    "unconditional to voicemail, toggled, all cancelled": [
        Step("*21#", {}, ["code_no_forward_number"]),  # no number yet: nothing to turn on
        Step(
            "*21*123#",
            {"forwardUnconditional": True, "forwardUnconditionalNature": "voicemail"},
            [UNCONDITIONAL, ON_TO, "code_your_voicemail"],
        ),
        Step("**21#", {"forwardUnconditional": False}, [UNCONDITIONAL, OFF]),
        Step("**21#", {"forwardUnconditional": True}, [UNCONDITIONAL, ON_TO, "code_your_voicemail"]),
        Step("#002", {"forwardUnconditional": False}, ["code_all_forwards_off"]),
    ],
    "no reply": [
        Step(
            "*61*0999001234#",
            {"forwardNoReply": True, "forwardNoReplyNumber": NUMBER, "forwardNoReplyNature": "number"},
            no_reply_on(20, NUMBER),  # the default delay
        ),
        Step("#61#", {"forwardNoReply": False}, [NO_REPLY, OFF]),
        Step("*#61#", {}, [NO_REPLY, OFF]),
        Step("**61#", {"forwardNoReply": True}, no_reply_on(20, NUMBER)),
    ],
    "no reply with its delay": [
        Step(
            "*61*0999005678*35#",
            {
                "forwardNoReply": True,
                "forwardNoReplyNumber": OTHER_NUMBER,
                "forwardNoReplyNature": "number",
                "forwardNoReplyDelay": 35,
            },
            no_reply_on(35, OTHER_NUMBER),
        ),
        Step("**61#", {"forwardNoReply": False}, [NO_REPLY, OFF]),
        Step("*61#", {"forwardNoReply": True}, no_reply_on(35, OTHER_NUMBER)),  # the last number and delay
    ],
    "busy": [
        Step(
            "*69*0999001234#",
            {"forwardBusy": True, "forwardBusyNumber": NUMBER, "forwardBusyNature": "number"},
            [BUSY, ON_TO, *said(NUMBER)],
        ),
        Step("*#69#", {}, [BUSY, ON_TO, *said(NUMBER)]),
        Step("**69#", {"forwardBusy": False}, [BUSY, OFF]),
        Step("#69#", {}, [BUSY, OFF]),  # already off
    ],
    "busy to the last number": [
        Step(
            "*69*0999005678#",
            {"forwardBusy": True, "forwardBusyNumber": OTHER_NUMBER, "forwardBusyNature": "number"},
            [BUSY, ON_TO, *said(OTHER_NUMBER)],
        ),
        Step("#69#", {"forwardBusy": False}, [BUSY, OFF]),
        Step("*69#", {"forwardBusy": True}, [BUSY, ON_TO, *said(OTHER_NUMBER)]),
    ],
}

LOCK = "code_lock_out_call"
FLAGS_AND_LOCK: dict[str, list[Step]] = {
    "absent subscriber": flag_steps("24", "absentSubscriber", "code_absent_subscriber"),
    "do not disturb": flag_steps("26", "doNotDisturb", "code_do_not_disturb"),
    "hide my number": flag_steps("31", "identificationRestriction", "code_identification_restriction"),
    "reject anonymous calls": flag_steps("82", "anonymousCallRejection", "code_anonymous_call_rejection"),
    "outgoing lock (PIN 1234 set through the API)": [
        Step(f"*#33*{PIN}#", {}, [LOCK, OFF]),
        Step(f"*33*{PIN}#", {"lockOutCall": True}, [LOCK, ON]),
        Step(f"*#33*{PIN}#", {}, [LOCK, ON]),
        Step("#33*9999#", {}, ["voicemail_wrong_pin"]),  # still locked
        Step(f"#33*{PIN}#", {"lockOutCall": False}, [LOCK, OFF]),
    ],
    "malformed or refused": [
        Step("*21*12#", {}, ["code_invalid"]),  # not a number
        Step("*61*0999001234*200#", {}, ["code_invalid"]),  # delay beyond 120 s
        Step("*33*12#", {}, ["code_invalid"]),  # a PIN has 4 digits
        Step("*99#", {}, ["code_invalid"]),  # no such service
        Step(f"*33*{PIN}#", {}, ["voicemail_wrong_pin"]),  # this line has no PIN
    ],
}
LINES_WITH_A_PIN = ("outgoing lock (PIN 1234 set through the API)",)


def test_each_forward_code_changes_its_forward_and_says_so(phones: Site) -> None:
    run_sequences(phones, FORWARDS)


def test_each_flag_and_lock_code_changes_its_option_and_says_so_and_a_malformed_code_changes_nothing(
    phones: Site,
) -> None:
    run_sequences(phones, FLAGS_AND_LOCK)


def run_sequences(site: Site, sequences: dict[str, list[Step]]) -> None:
    """Each sequence on a line of its own, all at once; then one call record per code dialled."""
    add_lines(site, len(sequences))
    with ThreadPoolExecutor(len(sequences)) as pool:
        runs = [
            pool.submit(run_sequence, site, index, name, steps) for index, (name, steps) in enumerate(sequences.items())
        ]
        for run in runs:
            run.result()
    dialled = sum(len(steps) for steps in sequences.values())
    assert len(call_records(site, dialled)) == dialled


def run_sequence(site: Site, index: int, name: str, steps: list[Step]) -> None:
    register(site, index)
    if name in LINES_WITH_A_PIN:
        patch_options(site, index, {"lockOutCallPassword": PIN})
    expected = options(site, index)
    for step in steps:
        heard = dial(site, index, step.code)
        expected = {**expected, **step.changes}
        assert options(site, index) == expected, f"{name}: {step.code}"
        heard.check(step.prompts, f"{name}: {step.code}")


def add_lines(site: Site, count: int) -> None:
    """Lines of the site's billing group up to `count`, each with its phone's working directory."""
    platform = site.server.platform
    try:
        while len(site.lines) < count:
            number = f"+33199{1001 + len(site.lines):06d}"
            site.lines.append(platform.services.lines.create(site.group_id, number)[1])
            (site.work_dir / f"line{len(site.lines) - 1}").mkdir()
    finally:
        platform.db.dispose()


def options(site: Site, index: int) -> dict[str, Any]:
    result: dict[str, Any] = site.line_api(index, "options").json()
    return result


def patch_options(site: Site, index: int, changes: dict[str, Any]) -> None:
    base = site.server.http_url
    token = httpx.post(
        f"{base}/v1/auth/token", json={"login": ACCOUNT_LOGIN, "password": ACCOUNT_PASSWORD}, timeout=10
    ).json()["token"]
    number = site.lines[index].number.removeprefix("+")
    httpx.patch(
        f"{base}/v1/billing-groups/{site.group_id}/lines/{number}/options",
        json=changes,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).raise_for_status()


@dataclass
class Heard:
    """What the phone received on a call the node answered: the node's SDP answer and the RTP packets."""

    answer: bytes
    packets: list[tuple[tuple[str, int], bytes]] = field(default_factory=list)

    def check(self, prompts: Sequence[str], label: str) -> None:
        """The RTP came from the port the node answered with, in PCMU without a gap, and its audio is the prompts
        one after another, with only silence before and after them."""
        answered = re.search(rb"^m=audio ([0-9]+) RTP/AVP 0\b", self.answer, re.MULTILINE)
        assert answered is not None, f"{label}: {self.answer!r}"
        assert self.packets, f"{label}: no RTP"
        assert {source[1] for source, _ in self.packets} == {int(answered[1])}, label
        headers = [rtp_header(packet) for _, packet in self.packets]
        assert {payload_type for payload_type, _, _ in headers} == {0}, label
        sequence = [number for _, number, _ in headers]
        assert sequence == [(sequence[0] + i) % 65536 for i in range(len(sequence))], f"{label}: packets lost"
        audio = b"".join(packet[length:] for (_, packet), (_, _, length) in zip(self.packets, headers, strict=True))
        expected = encode_ulaw(np.concatenate([wav_samples(prompt) for prompt in prompts]))
        start = audio.find(expected)
        assert start >= 0, f"{label}: the audio sent is not {prompts}"
        silence = encode_ulaw(np.zeros(1, np.int16))
        assert not audio[:start].strip(silence), f"{label}: something before {prompts}"
        assert not audio[start + len(expected) :].strip(silence), f"{label}: something after {prompts}"


def dial(site: Site, index: int, code: str) -> Heard:
    """Line `index`'s phone dials `code`; the node answers (200 with SDP), speaks, and hangs up."""
    line = site.lines[index]
    dialled = code.replace("#", "%23")
    directory = site.work_dir / f"line{index}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp:
        rtp.bind(("127.0.0.1", 0))
        rtp.settimeout(0.05)
        call = Sipp(
            "call_uac_answered_by_node_rtp",
            site.server.sip_port,
            directory,
            users_file(directory, [line]),
            keys={"dialled": dialled},
            extra=["-auth_uri", f"{dialled}@{line.domain}", "-mp", str(free_port()), "-trace_msg"],
            substitutions={"RTP_PORT": str(rtp.getsockname()[1])},
            timeout_s=30,
        )
        packets: list[tuple[tuple[str, int], bytes]] = []
        done = threading.Event()
        listener = threading.Thread(target=_receive, args=(rtp, packets, done))
        listener.start()
        try:
            run = call.run()
        finally:
            done.set()
            listener.join()
    assert run.all_passed, f"{code}: {run.output}"
    (ok,) = received(call, "SIP/2.0 200", "2 INVITE")
    return Heard(ok.body, packets)


def _receive(rtp: socket.socket, packets: list[tuple[tuple[str, int], bytes]], done: threading.Event) -> None:
    """Keep what comes until `done`, then what is still queued."""
    while True:
        try:
            data, source = rtp.recvfrom(2048)
        except TimeoutError:
            if done.is_set():
                return
            continue
        packets.append((source, data))


def rtp_header(packet: bytes) -> tuple[int, int, int]:
    """The payload type, sequence number and header length (CSRCs and extension included) of an RTP packet."""
    assert packet[0] >> 6 == 2 and not packet[0] & 0x20  # version 2, no padding
    length = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:
        length += 4 + 4 * int.from_bytes(packet[length + 2 : length + 4])
    return packet[1] & 0x7F, int.from_bytes(packet[2:4]), length


def wav_samples(prompt: str) -> np.ndarray[Any, np.dtype[np.int16]]:
    with wave.open(str(prompt_path("fr", prompt))) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 8000)
        return np.frombuffer(audio.readframes(audio.getnframes()), "<i2").astype(np.int16)
