"""URIs and the name-addr that carries them (RFC 3261 §19.1, §20.10, §25.1; RFC 3966 for tel).

A URI keeps its parts as received, %-escapes included, so it prints back as it came; the accessors decode
them and `SipUri.equivalent` compares them by the rules of RFC 3261 §19.1.4. A SIP message can carry any
absolute URI: sip and sips become SipUri, tel a TelUri, any other scheme an opaque AbsoluteUri (which a
Request-URI answers with 416 Unsupported URI Scheme).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple, TypeAlias
from urllib.parse import quote, unquote

Params: TypeAlias = tuple[tuple[str, str | None], ...]

_UNRESERVED = "A-Za-z0-9\\-_.!~*'()"
_UNRESERVED_CHARS = frozenset(string.ascii_letters + string.digits + "-_.!~*'()")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_HOSTNAME = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_HOST_PORT = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(?::([0-9]{1,5}))?")
_GLOBAL_NUMBER = re.compile(r"\+[0-9\-.()]+")
_LOCAL_NUMBER = re.compile(r"[0-9A-Fa-f*#\-.()]+")
_VISUAL_SEPARATORS = frozenset("+-.()")
_TEL_PARAM_NAME = re.compile(r"[A-Za-z0-9-]+")
_QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\r\n])*"'
_QUOTED_DISPLAY = re.compile(f"({_QUOTED})")
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
_GENERIC_PARAM = re.compile(rf"\s*;\s*({_TOKEN.pattern})(?:\s*=\s*({_TOKEN.pattern}|\[[0-9A-Fa-f:.]+\]|{_QUOTED}))?\s*")
_DISPLAY_ESCAPES = re.compile(r'["\\\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')

# Parameters that make two URIs differ when only one of them has it (RFC 3261 §19.1.4).
_SIGNIFICANT_PARAMS = frozenset({"user", "ttl", "method", "maddr", "transport"})


def _chars(extra: str) -> re.Pattern[str]:
    """One or more unreserved characters, escapes, or the `extra` ones (RFC 3261 §25.1)."""
    return re.compile(f"(?:[{_UNRESERVED}{re.escape(extra)}]|%[0-9A-Fa-f]{{2}})+")


_USER = _chars("&=+$,;?/")
_PASSWORD = _chars("&=+$,")
_PARAM_CHARS = "[]/:&+$"
_PARAM = _chars(_PARAM_CHARS)
_PARAM_SAFE = "!*'()" + _PARAM_CHARS  # what quote() may leave unescaped in a uri-parameter value
_HEADER = _chars("[]/?:+$")
_URIC = _chars(";/?:@&=+$,[]")


class UriError(ValueError):
    """A URI or name-addr that does not follow its grammar."""


def _normalise(text: str) -> str:
    """The comparison form of an escaped part: escapes of unreserved characters decoded, others upper-cased.

    RFC 3261 §19.1.4: a character outside the reserved set equals its escape, but `%3B` is not `;`.
    """

    def one(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED_CHARS else match.group(0).upper()

    return _ESCAPE.sub(one, text)


def _key(name: str) -> str:
    return _normalise(name).lower()


def _host(text: str) -> str:
    """A hostname, IPv4 address or bracketed IPv6 reference; returned without the brackets."""
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1]
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise UriError(f"malformed IPv6 reference {text!r}") from None
        if "%" in inner:
            raise UriError(f"zone index in IPv6 reference {text!r}")
        return inner
    if _IPV4.fullmatch(text):
        if any(int(part) > 255 for part in text.split(".")):
            raise UriError(f"malformed IPv4 address {text!r}")
        return text
    if not _HOSTNAME.fullmatch(text):
        raise UriError(f"malformed host {text!r}")
    return text


def _is_host(text: str) -> bool:
    try:
        _host(text)
    except UriError:
        return False
    return True


def _host_key(host: str) -> str:
    """Hosts compare without case, IPv6 addresses by value (2001:DB8:0::1 is 2001:db8::1)."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            pass
    return host.lower()


_PARAM_VALUES: dict[str, Callable[[str], object]] = {
    "transport": _TOKEN.fullmatch,
    "user": _TOKEN.fullmatch,
    "method": _TOKEN.fullmatch,
    "ttl": lambda value: re.fullmatch("[0-9]{1,3}", value) is not None and int(value) <= 255,
    "maddr": _is_host,
}


def _uri_param(text: str) -> tuple[str, str | None]:
    name, equals, value = text.partition("=")
    if not _PARAM.fullmatch(name) or (equals and not _PARAM.fullmatch(value)):
        raise UriError(f"malformed uri-parameter {text!r}")
    check = _PARAM_VALUES.get(_key(name))
    if check is not None and not (equals and check(unquote(value))):
        raise UriError(f"malformed uri-parameter {text!r}")
    return name, value if equals else None


def _uri_header(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not _HEADER.fullmatch(name) or (value and not _HEADER.fullmatch(value)):
        raise UriError(f"malformed URI header {text!r}")
    return name, value


def _format_params(params: Params) -> str:
    return "".join(f";{name}" if value is None else f";{name}={value}" for name, value in params)


@dataclass(frozen=True, slots=True)
class SipUri:
    """A sip or sips URI. user, password, parameters and headers are kept escaped, as received."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()
    scheme: str = "sip"

    @classmethod
    def parse(cls, text: str) -> SipUri:
        scheme, colon, rest = text.partition(":")
        if not colon or scheme.lower() not in ("sip", "sips"):
            raise UriError(f"not a sip or sips URI: {text!r}")
        # An unescaped "@" can only end the userinfo, which may itself hold ";" and "?": split there first.
        userinfo, at, rest = rest.rpartition("@")
        user = password = None
        if at:
            user, colon, password_text = userinfo.partition(":")
            password = password_text if colon else None
            if not _USER.fullmatch(user) or (password and not _PASSWORD.fullmatch(password)):
                raise UriError(f"malformed userinfo in {text!r}")
        rest, question, headers_text = rest.partition("?")
        host_port, *param_texts = rest.split(";")
        match = _HOST_PORT.fullmatch(host_port)
        if match is None:
            raise UriError(f"malformed host and port in {text!r}")
        port = int(match.group(2)) if match.group(2) else None
        if port is not None and not 0 < port < 65536:
            raise UriError(f"port out of range in {text!r}")
        params = tuple(_uri_param(param) for param in param_texts)
        if len({_key(name) for name, _ in params}) != len(params):
            raise UriError(f"repeated uri-parameter in {text!r}")
        headers = tuple(_uri_header(header) for header in headers_text.split("&")) if question else ()
        return cls(_host(match.group(1)), user, password, port, params, headers, scheme.lower())

    @property
    def unescaped_user(self) -> str | None:
        """The user with its escapes decoded (`sip:%61lice@…` -> `alice`), e.g. to look up an address of record."""
        return None if self.user is None else unquote(self.user)

    @property
    def host_port(self) -> tuple[str, int]:
        """Where to send, before any DNS procedure: the port defaults to 5060, or 5061 for sips."""
        return self.host, self.port if self.port is not None else 5061 if self.scheme == "sips" else 5060

    def has_param(self, name: str) -> bool:
        return any(_key(param) == _key(name) for param, _ in self.params)

    def param(self, name: str) -> str | None:
        """The decoded value of a uri-parameter; None when it is absent or has no value (`;lr`)."""
        for param, value in self.params:
            if _key(param) == _key(name):
                return None if value is None else unquote(value)
        return None

    def header(self, name: str) -> str | None:
        """The decoded value of the first URI header of that name (`?Route=%3Csip:x%3E` -> `<sip:x>`)."""
        for header, value in self.headers:
            if _key(header) == _key(name):
                return unquote(value)
        return None

    def with_params(self, **params: str | None) -> SipUri:
        """A copy with these uri-parameters set, in place or appended; values unescaped, None for none (`lr`)."""
        updated = list(self.params)
        for name, value in params.items():
            pair = _uri_param(name if value is None else f"{name}={quote(value, safe=_PARAM_SAFE)}")
            index = next((i for i, (param, _) in enumerate(updated) if _key(param) == _key(name)), len(updated))
            updated[index : index + 1] = [pair]
        return replace(self, params=tuple(updated))

    def without_params(self, *names: str) -> SipUri:
        removed = {_key(name) for name in names}
        return replace(self, params=tuple(pair for pair in self.params if _key(pair[0]) not in removed))

    def equivalent(self, other: Uri) -> bool:
        """RFC 3261 §19.1.4 equality.

        Not transitive: a parameter that only one URI has is ignored, unless it is user, ttl, method, maddr or
        transport; headers must all match. User and password compare with case, everything else without.
        """
        if not isinstance(other, SipUri):
            return False
        if (self.scheme, self.port, _host_key(self.host)) != (other.scheme, other.port, _host_key(other.host)):
            return False
        if self._userinfo_key() != other._userinfo_key():
            return False
        mine, theirs = self._param_keys(), other._param_keys()
        for name in mine.keys() | theirs.keys():
            if name in mine and name in theirs:
                if mine[name] != theirs[name]:
                    return False
            elif name in _SIGNIFICANT_PARAMS:
                return False
        return self._header_keys() == other._header_keys()

    def _userinfo_key(self) -> tuple[str | None, str | None]:
        return (
            None if self.user is None else _normalise(self.user),
            None if self.password is None else _normalise(self.password),
        )

    def _param_keys(self) -> dict[str, str | None]:
        return {_key(name): None if value is None else _key(value) for name, value in self.params}

    def _header_keys(self) -> list[tuple[str, str]]:
        return sorted((_key(name), _normalise(value)) for name, value in self.headers)

    def __str__(self) -> str:
        userinfo = ""
        if self.user is not None:
            userinfo = self.user + ("" if self.password is None else f":{self.password}") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port is None else f":{self.port}"
        headers = "?" + "&".join(f"{name}={value}" for name, value in self.headers) if self.headers else ""
        return f"{self.scheme}:{userinfo}{host}{port}{_format_params(self.params)}{headers}"


@dataclass(frozen=True, slots=True)
class TelUri:
    """A tel URI (RFC 3966): the number as written, visual separators included, and its parameters."""

    number: str
    params: Params = ()

    @classmethod
    def parse(cls, text: str) -> TelUri:
        scheme, colon, rest = text.partition(":")
        if not colon or scheme.lower() != "tel":
            raise UriError(f"not a tel URI: {text!r}")
        number, *param_texts = rest.split(";")
        params: list[tuple[str, str | None]] = []
        for param in param_texts:
            name, equals, value = param.partition("=")
            if not _TEL_PARAM_NAME.fullmatch(name) or (equals and not _PARAM.fullmatch(value)):
                raise UriError(f"malformed tel parameter {param!r}")
            params.append((name, value if equals else None))
        has_context = any(name.lower() == "phone-context" for name, _ in params)
        well_formed = _GLOBAL_NUMBER.fullmatch(number) or (_LOCAL_NUMBER.fullmatch(number) and has_context)
        if not well_formed or set(number) <= _VISUAL_SEPARATORS:
            raise UriError(f"malformed telephone number in {text!r} (a local number needs a phone-context)")
        return cls(number, tuple(params))

    def __str__(self) -> str:
        return f"tel:{self.number}{_format_params(self.params)}"


@dataclass(frozen=True, slots=True)
class AbsoluteUri:
    """A URI of any other scheme (`http:`, `urn:`, …), kept opaque: checked for its characters only."""

    scheme: str
    rest: str

    @classmethod
    def parse(cls, text: str) -> AbsoluteUri:
        scheme, colon, rest = text.partition(":")
        if not colon or not _SCHEME.fullmatch(scheme) or not _URIC.fullmatch(rest):
            raise UriError(f"malformed URI {text!r}")
        return cls(scheme, rest)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


Uri: TypeAlias = SipUri | TelUri | AbsoluteUri


def parse_uri(text: str) -> Uri:
    """sip and sips -> SipUri, tel -> TelUri, any other scheme -> AbsoluteUri; UriError when malformed.

    URIs are immutable and the same ones come back in every request (the registrar's, a line's contact):
    short ones are parsed once."""
    if len(text) <= _CACHED_URI_LENGTH:
        return _cached_uri(text)
    return _parse_uri(text)


_CACHED_URI_LENGTH = 256


@functools.lru_cache(maxsize=4096)
def _cached_uri(text: str) -> Uri:
    return _parse_uri(text)


def _parse_uri(text: str) -> Uri:
    scheme = text.partition(":")[0].lower()
    if scheme in ("sip", "sips"):
        return SipUri.parse(text)
    if scheme == "tel":
        return TelUri.parse(text)
    return AbsoluteUri.parse(text)


def _header_params(text: str) -> Params:
    """`;tag=1 ; q = 0.5;lr` -> (("tag", "1"), ("q", "0.5"), ("lr", None)); names lower-cased, values as written."""
    text = text.strip()
    params: list[tuple[str, str | None]] = []
    position = 0
    while position < len(text):
        match = _GENERIC_PARAM.match(text, position)
        if match is None:
            raise UriError(f"malformed header parameters {text!r}")
        params.append((match.group(1).lower(), match.group(2)))
        position = match.end()
    return tuple(params)


class NameAddr(NamedTuple):
    """The value of From, To, Contact, Route, Record-Route, P-Asserted-Identity: a URI, an optional display
    name (decoded) and the header's own parameters (tag, expires, q, …). A named tuple: every request's From
    (a new tag each time) is parsed anew, and a frozen dataclass costs three times as much to build."""

    uri: Uri
    display_name: str | None = None
    params: Params = ()

    @classmethod
    def parse(cls, text: str, *, addr_spec_allowed: bool = True) -> NameAddr:
        """Parse `"Name" <uri>;p=v`, `Name <uri>`, `<uri>` or, where allowed, a bare `uri;p=v`.

        A bare addr-spec's semicolon parameters belong to the header, not to the URI (RFC 3261 §20.10), so
        such a URI must not contain `;`, `,` or `?` of its own; Route and Record-Route allow only `<uri>`.
        """
        text = text.strip()
        quote_at, angle_at = text.find('"'), text.find("<")
        if quote_at == 0:
            match = _QUOTED_DISPLAY.match(text)
            if match is None:
                raise UriError(f"malformed quoted display name in {text!r}")
            return cls._bracketed(text[match.end() :].lstrip(), _QUOTED_PAIR.sub(r"\1", match.group(1)[1:-1]))
        if angle_at >= 0 and (quote_at < 0 or angle_at < quote_at):
            words = text[:angle_at].split()
            if not all(_TOKEN.fullmatch(word) for word in words):
                raise UriError(f"display name is neither tokens nor a quoted string in {text!r}")
            return cls._bracketed(text[angle_at:], " ".join(words) if words else None)
        if not addr_spec_allowed:
            raise UriError(f"the URI must be enclosed in <> in {text!r}")
        uri_text, semicolon, params_text = text.partition(";")
        uri_text = uri_text.rstrip()
        if "," in uri_text or "?" in uri_text:
            raise UriError(f"a URI with , or ? must be enclosed in <> in {text!r}")
        return cls(parse_uri(uri_text), None, _header_params(semicolon + params_text))

    @classmethod
    def _bracketed(cls, text: str, display_name: str | None) -> NameAddr:
        end = text.find(">")
        if not text.startswith("<") or end < 0:
            raise UriError(f"expected <URI> in {text!r}")
        return cls(parse_uri(text[1:end]), display_name, _header_params(text[end + 1 :]))

    @property
    def tag(self) -> str | None:
        return self.param("tag")

    def param(self, name: str) -> str | None:
        """A header parameter's value as written (quotes kept); None when absent or valueless."""
        wanted = name.lower()
        for param, value in self.params:
            if param == wanted:
                return value
        return None

    def with_tag(self, tag: str) -> NameAddr:
        if not _TOKEN.fullmatch(tag):
            raise UriError(f"a tag must be a token, not {tag!r}")
        params = [pair for pair in self.params if pair[0] != "tag"]
        return self._replace(params=(*params, ("tag", tag)))

    def __str__(self) -> str:
        """Always the `<uri>` form; a display name is always quoted, CR and LF (which no escape can carry)
        turned into spaces so that a name from elsewhere cannot inject a header line."""
        if self.display_name is None:
            display = ""
        else:
            text = self.display_name.replace("\r", " ").replace("\n", " ")
            display = '"' + _DISPLAY_ESCAPES.sub(lambda match: "\\" + match.group(0), text) + '" '
        return f"{display}<{self.uri}>{_format_params(self.params)}"
