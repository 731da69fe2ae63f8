"""A carrier trunk for the tests that call out of the platform or in from the public network: sipp plays the
carrier on 127.0.0.3 (it sends from there and listens there), and reads what it received."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.integration.calling import call_records
from tests.peers.sipp import Sipp
from tests.peers.tonalite_server import DOMAIN, free_port
from tonalite.store.models import CallRecord

if TYPE_CHECKING:
    from tests.integration.conftest import Site

CARRIER_HOST = "127.0.0.3"
STRANGER_HOST = "127.0.0.2"
OUTSIDE_NUMBER = "+33612345678"
TRUNK_USERNAME = "tonalite-trunk"
TRUNK_PASSWORD = "carrier secret"  # a space: the password is used as given


@dataclass
class Carrier:
    site: Site
    port: int
    """Where the carrier's sipp listens on CARRIER_HOST."""

    def far_end(self, scenario: str, **substitutions: str) -> Sipp:
        """The carrier's side of a call out, listening on the trunk's address and port."""
        return Sipp(
            scenario,
            self.site.server.sip_port,
            self.site.work_dir / "carrier",
            local_port=self.port,
            substitutions=substitutions,
            extra=["-i", CARRIER_HOST, "-trace_msg"],
        )

    def caller(self, scenario: str, dialled: str, host: str = CARRIER_HOST, **substitutions: str) -> Sipp:
        """A call in from `host` (the carrier's address, or another)."""
        return Sipp(
            scenario,
            self.site.server.sip_port,
            self.site.work_dir / "carrier",
            keys={"dialled": dialled},
            substitutions=substitutions,
            extra=["-i", host],
        )


def open_carrier(site: Site) -> Carrier:
    """The site with a carrier trunk on CARRIER_HOST (numbers +33), and a working directory per phone."""
    for directory in ("line0", "line1", "line2", "carrier"):
        (site.work_dir / directory).mkdir()
    port = free_port()
    platform = site.server.platform
    platform.services.trunks.add(
        "carrier",
        CARRIER_HOST,
        port=port,
        username=TRUNK_USERNAME,
        password=TRUNK_PASSWORD,
        source_addresses=[CARRIER_HOST],
        prefixes=["+33"],
    )
    platform.db.dispose()
    return Carrier(site, port)


def identity(number: str) -> str:
    """A regular expression for `sip:NUMBER@<platform domain>>`, as From and P-Asserted-Identity carry it."""
    return re.escape(f"sip:{number}@{DOMAIN}>")


def received_invites(far_end: Sipp) -> list[dict[str, str]]:
    """The INVITEs sipp received (from its -trace_msg log): the request line as `uri`, and the headers."""
    invites = []
    for block in re.findall(
        r"^INVITE .*?(?=\r?\n\r?\n)", far_end.messages_log.read_text(errors="replace"), re.M | re.S
    ):
        start, *lines = block.splitlines()
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        invites.append({"uri": start.split()[1], **headers})
    return invites


def answered_call(site: Site, caller: Sipp, far_end: Sipp) -> CallRecord:
    """Run a call between two sipp peers (the far end already started): both must pass; its one record."""
    placed = caller.run()
    answered = far_end.finish()
    assert placed.all_passed, placed.output
    assert answered.all_passed, answered.output
    (record,) = call_records(site, 1)
    return record
