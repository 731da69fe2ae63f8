"""A headless baresip softphone (Debian's baresip 1.0) driven from the tests over its ctrl_tcp interface.

Each `Baresip` has a configuration directory of its own: loopback only, a WAV file as its microphone
(aufile: a tone by default), the ALSA null device as its speaker, and what it sends and receives recorded by
sndfile. The account is created once the control connection is up (`uanew`), so that no registration event is
missed. Commands and events are netstrings carrying JSON (`<length>:<json>,`).

With `message_waiting`, the phone loads mwi.so, which subscribes to its line's message-summary once it has
registered and reports each NOTIFY's body as an MWI_NOTIFY event. Keys go out as RFC 4733 events (`sndcode`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import shutil
import socket
import subprocess
import threading
import time
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from tonalite.services.lines import LineCredentials

BARESIP = shutil.which("baresip") or "/usr/bin/baresip"
MODULE_PATH = Path("/usr/lib/baresip/modules")
SAMPLE_RATE = 8000
START_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0
TONE_SECONDS = 20
TONE_AMPLITUDE = 0.5
RTP_PORTS = 10

# Ports handed out in this process, so that phones started side by side never pick overlapping ones
# before either has bound them.
_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


class BaresipError(AssertionError):
    """A phone did not do what the test waited for; the message carries its log."""


def _bindable(port: int, kinds: Iterable[int]) -> bool:
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_block(count: int, *, tcp: bool, step: int = 1) -> int:
    """The first of `count` consecutive ports free on 127.0.0.1 (UDP, and TCP too if asked), kept away
    from the ports already handed out to other phones of this process."""
    kinds = (socket.SOCK_DGRAM, socket.SOCK_STREAM) if tcp else (socket.SOCK_DGRAM,)
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as anchor:
            anchor.bind(("127.0.0.1", 0))
            base = int(anchor.getsockname()[1])
        base -= base % step
        block = range(base, base + count)
        with _handed_out_lock:
            if any(port in _handed_out for port in block) or block[-1] > 65535:
                continue
            if all(_bindable(port, kinds) for port in block):
                _handed_out.update(block)
                return base
    raise RuntimeError(f"no block of {count} free ports")


def write_tone(path: Path, frequency_hz: float, seconds: int = TONE_SECONDS) -> Path:
    """A sine tone as aufile wants it: WAV, 16-bit signed little-endian, 8 kHz, mono."""
    peak = TONE_AMPLITUDE * 32767
    frames = bytearray()
    for index in range(SAMPLE_RATE * seconds):
        sample = round(peak * math.sin(2 * math.pi * frequency_hz * index / SAMPLE_RATE))
        frames += sample.to_bytes(2, "little", signed=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(frames))
    return path


def netstring(payload: bytes) -> bytes:
    return b"%d:%s," % (len(payload), payload)


class NetstringReader:
    """Splits a byte stream into netstrings."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages = []
        while True:
            colon = self._buffer.find(b":")
            if colon < 0:
                break
            length = int(self._buffer[:colon])
            end = colon + 1 + length
            if len(self._buffer) < end + 1:
                break
            if self._buffer[end : end + 1] != b",":
                raise ValueError(f"bad netstring: {self._buffer[: end + 1]!r}")
            messages.append(self._buffer[colon + 1 : end])
            self._buffer = self._buffer[end + 1 :]
        return messages


@dataclass
class Baresip:
    """One softphone registered on one line of the server.

    Use it as a context manager: the process is always stopped (quit, then terminate, then kill).
    """

    name: str
    directory: Path
    line: LineCredentials
    server_port: int
    transport: str = "udp"
    tone_hz: float = 1000.0
    answermode: str = "manual"
    regint: int = 300
    sip_trace: bool = True
    microphone: Path | None = None
    """What the phone sends: this WAV (16-bit, 8 kHz, mono), its calls hanging up when it ends (aufile's
    "end of file"); a `tone_hz` tone of TONE_SECONDS by default."""
    message_waiting: bool = False
    sip_port: int = field(default_factory=lambda: free_port_block(2, tcp=True))
    rtp_port: int = field(default_factory=lambda: free_port_block(RTP_PORTS, tcp=False, step=2))
    ctrl_port: int = field(default_factory=lambda: free_port_block(1, tcp=True))
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    events: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)
    """Every event the phone pushed, in order."""
    _socket: socket.socket | None = field(default=None, init=False, repr=False)
    _connected: bool = field(default=False, init=False, repr=False)
    _reader: threading.Thread | None = field(default=None, init=False, repr=False)
    _responses: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)
    _consumed: set[int] = field(default_factory=set, init=False, repr=False)
    _tokens: itertools.count[int] = field(default_factory=itertools.count, init=False, repr=False)

    # Files.

    @property
    def config_dir(self) -> Path:
        return self.directory / "config"

    @property
    def snd_path(self) -> Path:
        return self.directory / "recordings"

    @property
    def tone_path(self) -> Path:
        return self.directory / f"tone-{self.tone_hz:g}hz.wav"

    @property
    def log_path(self) -> Path:
        return self.directory / "baresip.log"

    @property
    def account(self) -> str:
        """The account line: the line's address of record on the server, digest credentials, PCMU only."""
        line = self.line
        return (
            f"<sip:{line.username}@{line.domain}:{self.server_port};transport={self.transport}>"
            f";auth_user={line.username};auth_pass={line.password}"
            f";answermode={self.answermode};regint={self.regint};audio_codecs=PCMU"
        )

    def uri(self, user: str) -> str:
        """A SIP URI for `user` on the server. baresip adds its account's `;transport=` itself (twice if
        the URI already has one, which a strict server rightly refuses with 400)."""
        return f"sip:{user}@{self.line.domain}:{self.server_port}"

    def write_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.snd_path.mkdir(parents=True, exist_ok=True)
        if self.microphone is None:
            write_tone(self.tone_path, self.tone_hz)
        settings = {
            "poll_method": "epoll",
            "sip_listen": f"127.0.0.1:{self.sip_port}",
            "net_interface": "127.0.0.1",
            "call_local_timeout": "120",
            "call_max_calls": "4",
            "audio_player": "alsa,null",
            "audio_alert": "alsa,null",
            "audio_source": f"aufile,{self.microphone or self.tone_path}",
            "ausrc_srate": str(SAMPLE_RATE),
            "auplay_srate": str(SAMPLE_RATE),
            "ausrc_channels": "1",
            "auplay_channels": "1",
            "ausrc_format": "s16",
            "auplay_format": "s16",
            "auenc_format": "s16",
            "audec_format": "s16",
            "audio_level": "no",
            "rtp_ports": f"{self.rtp_port}-{self.rtp_port + RTP_PORTS - 1}",
            "rtcp_mux": "no",
            "jitter_buffer_delay": "5-10",
            "rtp_stats": "no",
            "module_path": str(MODULE_PATH),
            "snd_path": str(self.snd_path),
            "ctrl_tcp_listen": f"127.0.0.1:{self.ctrl_port}",
        }
        modules = [
            ("module", "g711.so"),
            ("module", "alsa.so"),
            ("module", "aufile.so"),
            ("module", "sndfile.so"),
            ("module_tmp", "account.so"),
            ("module_app", "menu.so"),
            ("module_app", "ctrl_tcp.so"),
            *([("module_app", "mwi.so")] if self.message_waiting else []),
        ]
        lines = [f"{key}\t{value}" for key, value in settings.items()] + [f"{k}\t{v}" for k, v in modules]
        (self.config_dir / "config").write_text("\n".join(lines) + "\n")
        # No account at start: it is added with `uanew` once the control connection listens for events.
        (self.config_dir / "accounts").write_text("")
        (self.config_dir / "contacts").write_text("")

    # Process.

    def start(self) -> None:
        self.write_config()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [BARESIP, "-f", str(self.config_dir), "-v", *(["-s"] if self.sip_trace else [])],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        connection = self._connect()
        self._socket, self._connected = connection, True
        self._reader = threading.Thread(target=self._read, args=(connection,), name=f"baresip-{self.name}", daemon=True)
        self._reader.start()

    def _connect(self) -> socket.socket:
        """ctrl_tcp listens once baresip has loaded its modules: retry the connection, bounded."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise BaresipError(f"{self.name}: baresip exited with {self.process.returncode}\n{self.log_tail()}")
            try:
                connection = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1.0)
                connection.settimeout(None)
                return connection
            except OSError:
                if time.monotonic() > deadline:
                    raise BaresipError(
                        f"{self.name}: ctrl_tcp did not listen within {START_TIMEOUT_S} s\n{self.log_tail()}"
                    ) from None
                time.sleep(0.02)

    def _read(self, connection: socket.socket) -> None:
        """The reader thread: responses by token, events in order; wakes every waiter on each message."""
        reader = NetstringReader()
        while True:
            try:
                data = connection.recv(65536)
            except OSError:
                data = b""
            messages = reader.feed(data) if data else []
            with self._changed:
                for raw in messages:
                    message = json.loads(raw)
                    if message.get("response"):
                        self._responses[str(message.get("token"))] = message
                    elif message.get("event"):
                        self.events.append(message)
                if not data:
                    self._connected = False
                self._changed.notify_all()
            if not data:
                return

    def stop(self) -> None:
        """quit over ctrl_tcp, then SIGTERM, then SIGKILL; each bounded."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.poll() is None and self._connected:
                with contextlib.suppress(OSError, BaresipError):
                    self._send({"command": "quit", "token": "quit"})
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            sock, self._socket = self._socket, None
            if sock is not None:
                sock.close()
            if self._reader is not None:
                self._reader.join(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> Baresip:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.stop()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # Control.

    def _send(self, message: dict[str, Any]) -> None:
        if self._socket is None or not self._connected:
            raise BaresipError(f"{self.name}: control connection closed\n{self.log_tail()}")
        self._socket.sendall(netstring(json.dumps(message).encode()))

    def command(self, command: str, params: str | None = None, timeout: float = COMMAND_TIMEOUT_S) -> dict[str, Any]:
        """Run a menu command and return baresip's response (`ok`, `data`)."""
        token = f"{command}-{next(self._tokens)}"
        message: dict[str, Any] = {"command": command, "token": token}
        if params is not None:
            message["params"] = params
        self._send(message)
        deadline = time.monotonic() + timeout
        with self._changed:
            while token not in self._responses:
                self._check_alive()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BaresipError(f"{self.name}: no response to {command} within {timeout} s\n{self.log_tail()}")
                self._changed.wait(min(remaining, 0.2))
            response = self._responses.pop(token)
        if not response.get("ok", False):
            raise BaresipError(f"{self.name}: {command} {params or ''} failed: {response}\n{self.log_tail()}")
        return response

    def _check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise BaresipError(f"{self.name}: baresip is not running (exit {code})\n{self.log_tail()}")

    def wait_for(self, event_type: str, timeout: float = 10.0, fail_on: Iterable[str] = ()) -> dict[str, Any]:
        """The next event of `event_type` not yet waited for; fails at once if a `fail_on` event comes
        first or the phone exits, and after `timeout` seconds, with the phone's events and log."""
        failures = set(fail_on)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index, event in enumerate(self.events):
                    if index in self._consumed:
                        continue
                    if event.get("type") == event_type:
                        self._consumed.add(index)
                        return event
                    if event.get("type") in failures:
                        self._consumed.add(index)
                        raise BaresipError(
                            f"{self.name}: {event.get('type')} while waiting for {event_type}: {event}\n"
                            f"{self.log_tail()}"
                        )
                self._check_alive()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [event.get("type") for event in self.events]
                    raise BaresipError(
                        f"{self.name}: no {event_type} within {timeout} s (events: {seen})\n{self.log_tail()}"
                    )
                self._changed.wait(min(remaining, 0.2))

    def register(self, timeout: float = 10.0) -> dict[str, Any]:
        """Create the account (which sends REGISTER) and wait until the server accepts it."""
        self.command("uanew", self.account)
        return self.wait_for("REGISTER_OK", timeout, fail_on=("REGISTER_FAIL",))

    def dial(self, user: str) -> None:
        self.command("dial", self.uri(user))

    def accept(self) -> None:
        self.command("accept")

    def hangup(self) -> None:
        self.command("hangup")

    def press(self, key: str) -> None:
        """One key in the current call, as RFC 4733 events (the call must have negotiated telephone-event)."""
        if len(key) != 1:
            raise ValueError("one key at a time: sndcode sends a string's keys without releasing one before the next")
        self.command("sndcode", key)

    def message_summary(self, timeout: float = 10.0) -> bytes:
        """The body of the next message-summary NOTIFY the phone took (needs `message_waiting`)."""
        return str(self.wait_for("MWI_NOTIFY", timeout)["param"]).encode()

    # Recordings.

    def recordings(self, kind: str) -> list[Path]:
        """sndfile's files: `dec` is what the phone received and played, `enc` what it sent."""
        return sorted(self.snd_path.glob(f"dump-*-{kind}.wav"))

    @staticmethod
    def recorded_so_far(path: Path) -> bytes:
        """The 16-bit samples in a recording still being written: sndfile sets the WAV header's sizes only
        when the call ends, so the samples are whatever follows the data chunk's header."""
        content = path.read_bytes()
        position = 12  # past "RIFF", its size and "WAVE": then chunks of an id, a size and the data
        while position + 8 <= len(content):
            chunk, size = (
                content[position : position + 4],
                int.from_bytes(content[position + 4 : position + 8], "little"),
            )
            if chunk == b"data":
                samples = content[position + 8 :]
                return samples[: len(samples) // 2 * 2]
            position += 8 + size + size % 2
        return b""
