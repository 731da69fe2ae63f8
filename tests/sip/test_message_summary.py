"""The application/simple-message-summary body (RFC 3842 §5): written and read."""

from __future__ import annotations

import pytest

from tonalite.sip.message_summary import MessageSummary, MessageSummaryError


def test_a_summary_is_written_with_crlf_line_endings() -> None:
    summary = MessageSummary(2, 8, "sip:+33999000001@sip.example.com")
    assert summary.serialise() == (
        b"Messages-Waiting: yes\r\nMessage-Account: sip:+33999000001@sip.example.com\r\nVoice-Message: 2/8\r\n"
    )


def test_no_new_message_is_no_message_waiting() -> None:
    assert MessageSummary(0, 3).serialise() == b"Messages-Waiting: no\r\nVoice-Message: 0/3\r\n"


def test_what_is_written_reads_back() -> None:
    summary = MessageSummary(1, 0, "sip:alice@example.com")
    assert MessageSummary.parse(summary.serialise()) == summary


def test_the_rfc_example_reads_with_urgent_counts_other_classes_and_message_headers() -> None:
    """RFC 3842 §5.2's example, header names in another case and bare LF line endings."""
    body = (
        b"Messages-Waiting: yes\n"
        b"message-account: sip:alice@vmail.example.com\n"
        b"Voice-Message: 4/8 (1/2)\n"
        b"Fax-Message: 0/1\n"
        b"\n"
        b"To: <alice@atlanta.example.com>\n"
        b"Subject: weekend plans\n"
    )
    assert MessageSummary.parse(body) == MessageSummary(4, 8, "sip:alice@vmail.example.com")


def test_a_summary_without_voice_counts_has_none() -> None:
    assert MessageSummary.parse(b"Messages-Waiting: no\r\n") == MessageSummary(0, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"Messages-Waiting: maybe\r\n",
        b"Voice-Message: 1/0\r\n",
        b"Messages-Waiting: yes\r\nVoice-Message: one/none\r\n",
        b"Messages-Waiting: yes\r\nVoice-Message: 1/2 (3)\r\n",
        b"Messages-Waiting: yes\r\nno colon here\r\n",
        b"Messages-Waiting: \xff\r\n",
    ],
)
def test_a_malformed_summary_is_refused(body: bytes) -> None:
    with pytest.raises(MessageSummaryError):
        MessageSummary.parse(body)
