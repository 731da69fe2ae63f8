from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from tonalite.app import Platform
from tonalite.sip.transport import Transport
from tonalite.store.models import (
    Account,
    BillingGroup,
    CallDirection,
    CallRecord,
    Line,
    LineOptions,
    Registration,
    VoicemailBox,
)


def _line(platform: Platform) -> int:
    with platform.db.session() as session:
        account = Account(login="acme", password_hash="x", company_name="Acme", contact_email="a@example.com")
        group = BillingGroup(account=account, description="Siège")
        line = Line(
            billing_group=group,
            number="+33999001234",
            sip_username="0033999001234",
            sip_realm="sip.tonalite.test",
            ha1_md5="0" * 32,
            ha1_sha256="0" * 64,
            options=LineOptions(),
            voicemail_box=VoicemailBox(),
        )
        session.add(line)
        session.flush()
        return line.id


def test_datetimes_come_back_aware_in_utc(platform: Platform) -> None:
    line_id = _line(platform)
    paris = timezone(timedelta(hours=1))
    started = datetime(2026, 3, 1, 10, 0, tzinfo=paris)
    with platform.db.session() as session:
        session.add(
            CallRecord(
                call_id="abc",
                caller_line_id=line_id,
                direction=CallDirection.INTERNAL,
                caller="+33999001234",
                callee="+33999004321",
                started_at=started,
            )
        )
    with platform.db.session() as session:
        record = session.scalars(select(CallRecord)).one()
    assert record.started_at == started
    assert record.started_at.tzinfo == UTC


def test_naive_datetimes_are_refused(platform: Platform) -> None:
    line_id = _line(platform)
    with pytest.raises(StatementError), platform.db.session() as session:
        session.add(
            CallRecord(
                call_id="abc",
                caller_line_id=line_id,
                direction=CallDirection.INTERNAL,
                caller="a",
                callee="b",
                started_at=datetime(2026, 3, 1, 10, 0),
            )
        )


def test_one_registration_per_line(platform: Platform) -> None:
    line_id = _line(platform)
    expires = datetime.now(UTC) + timedelta(minutes=30)

    def registration() -> Registration:
        return Registration(
            line_id=line_id,
            contact="<sip:a@127.0.0.1:5062>",
            call_id="c",
            cseq=1,
            source_host="127.0.0.1",
            source_port=5062,
            transport=Transport.UDP,
            expires_at=expires,
        )

    with platform.db.session() as session:
        session.add(registration())
    with pytest.raises(IntegrityError), platform.db.session() as session:
        session.add(registration())


def test_deleting_an_account_removes_what_it_owns(platform: Platform) -> None:
    _line(platform)
    with platform.db.session() as session:
        session.delete(session.scalars(select(Account)).one())
    with platform.db.session() as session:
        assert session.scalars(select(Line)).all() == []
        assert session.scalars(select(LineOptions)).all() == []
        assert session.scalars(select(VoicemailBox)).all() == []
