"""The dial plan over a real database: where a line's calls go (its lock, its outgoing screen list, how its
number is presented), where its forwards go, and what its options make of a call arriving at it.

Each case sets options and screen-list entries through the services, as the panel and the API do, then asks the
dial plan. The cases are grouped by set-up, so that each set-up builds one platform."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.customers import ALICE_ALIAS, ALICE_LINE, BOB_LINE, Customer, open_account
from tonalite.app import Platform
from tonalite.features import forwarding
from tonalite.features.dialled import EMERGENCY_NUMBERS
from tonalite.features.dialplan import (
    Arrival,
    BarReason,
    Barred,
    DialPlan,
    NoRoute,
    ToFeatureCode,
    ToLine,
    ToOutside,
    ToOwnVoicemail,
    ToVoicemailAccess,
    Unassigned,
)
from tonalite.features.feature_codes import Action, Destination, Feature, FeatureCode, Presentation
from tonalite.features.forwarding import (
    ANONYMOUS_REJECTED,
    BUSY,
    KEEP_RINGING,
    MAX_FORWARDS,
    SCREENED_OUT,
    UNAVAILABLE,
    ForwardReason,
    ForwardTo,
    Ring,
    Situation,
    ToVoicemail,
)
from tonalite.services.line_directory import SipLine
from tonalite.services.trunks import CarrierTrunk
from tonalite.store.models import ChangeOrigin, ForwardNature, ScreenDirection, ScreenListKind

COLLEAGUE = "+33999001235"
BRANCH = "+33999001236"
"""A line of Alice's account in another billing group."""
"""Another line of Alice's billing group."""
FREE = "+33999009000"
"""A number of the platform's inventory that no line holds."""
ACCESS = "+33999009999"
"""The voicemail access number."""
MOBILE = "+33612345678"
PREMIUM = "+33899123456"
SHOWN, HIDDEN = Presentation.SHOWN, Presentation.HIDDEN
IN, OUT = ScreenDirection.INCOMING, ScreenDirection.OUTGOING
WHITE, BLACK = ScreenListKind.WHITELIST, ScreenListKind.BLACKLIST
LOCKED = {"lock_out_call": True, "lock_out_call_password": "1234"}
CLIR = {"identification_restriction": True}
VOICEMAIL_OFF = {"voicemail": False}
"""Not a line option: the line's voicemail box turned off (voicemail settings)."""
UNLOCK = FeatureCode(Feature.LOCK_OUT_CALL, Action.DEACTIVATE, pin="1234")
FORWARD_TO_MOBILE = FeatureCode(
    Feature.FORWARD_UNCONDITIONAL, Action.ACTIVATE, Destination(ForwardNature.NUMBER, MOBILE)
)

Screen = tuple[ScreenDirection, ScreenListKind, str, bool]
"""An entry on Alice's screen lists: direction, kind, the value as typed, whether it is a prefix."""


@dataclass(frozen=True, slots=True)
class World:
    platform: Platform
    alice: Customer
    plan: DialPlan
    trunk: CarrierTrunk

    def line(self, number: str) -> SipLine:
        line = self.platform.services.line_directory.by_number(number)
        assert line is not None
        return line

    def set_up(self, options: dict[str, Any], screens: Sequence[Screen] = (), number: str = ALICE_LINE) -> None:
        services, alice = self.platform.services, self.alice
        options = dict(options)
        if "voicemail" in options:
            services.voicemail_settings.update(
                alice.principal, alice.group, number, {"active": options.pop("voicemail")}
            )
        if options:
            services.line_options.update(alice.principal, alice.group, number, options, ChangeOrigin.API)
        for direction, kind, value, is_prefix in screens:
            services.screen_lists.add(alice.principal, alice.group, number, direction, kind, value, is_prefix)


@pytest.fixture
def world(platform: Platform) -> World:
    """Alice's account: her line, a colleague's line and an alias number in her billing group; Bob's account
    and line; a free number of the inventory; one trunk that carries every outside number, emergency ones too."""
    services = platform.services
    alice = open_account(platform, "alice", ALICE_LINE)
    services.lines.create(alice.group, COLLEAGUE, "Atelier")
    services.numbers.create_alias(alice.group, ALICE_ALIAS)
    open_account(platform, "bob", BOB_LINE)
    services.numbers.add_to_inventory([FREE])
    trunk = services.trunks.add("carrier", "192.0.2.1")
    plan = DialPlan(services.line_directory, services.trunks, ACCESS)
    return World(platform, alice, plan, trunk)


Expected = Callable[[World], object]


def outside(number: str, presentation: Presentation | None = SHOWN, display_number: str = "") -> Expected:
    return lambda world: ToOutside(number, world.trunk, presentation, display_number)


def to_line(number: str, presentation: Presentation | None = SHOWN, display_number: str = "") -> Expected:
    return lambda world: ToLine(world.line(number), presentation, display_number)


def just(decision: object) -> Expected:
    return lambda world: decision


def own_voicemail(world: World) -> object:
    return ToOwnVoicemail(world.line(ALICE_LINE))


# --- route: where a call Alice dials goes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "screens"),
    [
        pytest.param({}, (), id="free"),
        pytest.param(LOCKED, (), id="locked"),
        # a whitelist refuses every number off it, so it would refuse 112 if an emergency call were screened
        pytest.param({}, [(OUT, WHITE, MOBILE, False)], id="outgoing-whitelist"),
        pytest.param({}, [(OUT, BLACK, "+1", True), (OUT, BLACK, "+3", True)], id="outgoing-blacklist-prefixes"),
        pytest.param(LOCKED, [(OUT, WHITE, MOBILE, False), (OUT, BLACK, "+1", True)], id="locked-and-screened"),
    ],
)
def test_every_emergency_number_goes_to_the_trunk_as_dialled(
    world: World, options: dict[str, Any], screens: list[Screen]
) -> None:
    world.set_up(options, screens)
    alice = world.line(ALICE_LINE)
    routed = {number: world.plan.route(number, alice) for number in sorted(EMERGENCY_NUMBERS)}
    assert routed == {number: ToOutside(number, world.trunk, SHOWN) for number in sorted(EMERGENCY_NUMBERS)}


def test_an_emergency_call_is_presented_as_the_line_says(world: World) -> None:
    world.set_up(CLIR | LOCKED | {"display_number": ALICE_ALIAS})
    assert world.plan.route("112", world.line(ALICE_LINE)) == ToOutside("112", world.trunk, HIDDEN, ALICE_ALIAS)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="free"),
        pytest.param(LOCKED, id="locked"),
    ],
)
def test_an_emergency_number_without_a_trunk_has_no_route(world: World, options: dict[str, Any]) -> None:
    world.platform.services.trunks.remove("carrier")
    world.set_up(options)
    assert world.plan.route("112", world.line(ALICE_LINE)) == NoRoute("112")


ROUTES: list[Any] = [
    pytest.param(
        {},
        (),
        [
            ("0999001235", to_line(COLLEAGUE)),
            ("09 99 00 22 22", to_line(BOB_LINE)),
            ("06 12 34 56 78", outside(MOBILE)),
            ("0999009000", just(Unassigned(FREE))),
            ("pas un numéro", just(Unassigned("pas un numéro"))),
            ("123", own_voicemail),
            ("09 99 00 99 99", just(ToVoicemailAccess())),
            ("#33*1234#", just(ToFeatureCode(UNLOCK))),
        ],
        id="nothing-set",
    ),
    pytest.param(
        LOCKED,
        (),
        [
            ("0999001235", just(Barred(COLLEAGUE, BarReason.LOCKED))),
            ("0612345678", just(Barred(MOBILE, BarReason.LOCKED))),
            ("36510612345678", just(Barred(MOBILE, BarReason.LOCKED))),
            ("0999009000", just(Barred(FREE, BarReason.LOCKED))),
            ("pas un numéro", just(Barred("pas un numéro", BarReason.LOCKED))),
            ("123", own_voicemail),
            ("#33*1234#", just(ToFeatureCode(UNLOCK))),
            ("*21*0612345678#", just(ToFeatureCode(FORWARD_TO_MOBILE))),
            ("0999009999", just(ToVoicemailAccess())),
        ],
        id="locked",
    ),
    pytest.param(
        LOCKED,
        [(OUT, BLACK, MOBILE, False)],
        [("0612345678", just(Barred(MOBILE, BarReason.LOCKED)))],
        id="locked-before-screened",
    ),
    pytest.param(
        {},
        [(OUT, BLACK, "0899", True), (OUT, BLACK, COLLEAGUE, False)],
        [
            ("0899123456", just(Barred(PREMIUM, BarReason.SCREENED))),
            ("3652 0899123456", just(Barred(PREMIUM, BarReason.SCREENED))),
            ("0999001235", just(Barred(COLLEAGUE, BarReason.SCREENED))),  # a line of the platform too
            ("0612345678", outside(MOBILE)),
            ("0999002222", to_line(BOB_LINE)),
            ("123", own_voicemail),
        ],
        id="outgoing-blacklist",
    ),
    pytest.param(
        {},
        [(OUT, WHITE, MOBILE, False), (OUT, WHITE, "+339990012", True)],
        [
            ("0612345678", outside(MOBILE)),
            ("0612345679", just(Barred("+33612345679", BarReason.SCREENED))),
            ("0899123456", just(Barred(PREMIUM, BarReason.SCREENED))),
            ("0999001235", to_line(COLLEAGUE)),
            ("0999002222", just(Barred(BOB_LINE, BarReason.SCREENED))),
            ("123", own_voicemail),
            ("#33*1234#", just(ToFeatureCode(UNLOCK))),
            ("0999009999", just(ToVoicemailAccess())),
        ],
        id="outgoing-whitelist",
    ),
    pytest.param(
        {},
        [(OUT, WHITE, "+336", True), (OUT, BLACK, MOBILE, False)],
        [
            ("0612345678", just(Barred(MOBILE, BarReason.SCREENED))),  # on both lists: refused
            ("0612345679", outside("+33612345679")),
        ],
        id="whitelist-and-blacklist",
    ),
    pytest.param(
        {},
        [(IN, BLACK, MOBILE, False), (IN, WHITE, BOB_LINE, False)],
        [("0612345678", outside(MOBILE)), ("0999001235", to_line(COLLEAGUE))],
        id="incoming-lists-leave-outgoing-calls",
    ),
    pytest.param(
        CLIR,
        (),
        [
            ("0612345678", outside(MOBILE, HIDDEN)),
            ("0999001235", to_line(COLLEAGUE, HIDDEN)),
            ("36520612345678", outside(MOBILE, SHOWN)),
            ("36520999001235", to_line(COLLEAGUE, SHOWN)),
            ("36510612345678", outside(MOBILE, HIDDEN)),
        ],
        id="clir-option",
    ),
    pytest.param(
        {},
        (),
        [
            ("36510612345678", outside(MOBILE, HIDDEN)),
            ("3651 09 99 00 12 35", to_line(COLLEAGUE, HIDDEN)),
            ("36520612345678", outside(MOBILE, SHOWN)),
            ("36510999009000", just(Unassigned(FREE))),
            ("3651123", just(Unassigned(""))),  # a prefix in front of anything but a call means nothing
        ],
        id="clir-prefixes",
    ),
    pytest.param(
        {"display_number": ALICE_ALIAS},
        (),
        [
            ("0612345678", outside(MOBILE, SHOWN, ALICE_ALIAS)),
            ("0999001235", to_line(COLLEAGUE, SHOWN, ALICE_ALIAS)),
            ("36510612345678", outside(MOBILE, HIDDEN, ALICE_ALIAS)),
        ],
        id="display-number",
    ),
    pytest.param(
        CLIR | {"display_number": "09 99 00 12 35"},
        (),
        [
            ("0612345678", outside(MOBILE, HIDDEN, COLLEAGUE)),
            ("0999002222", to_line(BOB_LINE, HIDDEN, COLLEAGUE)),
        ],
        id="display-number-of-a-line-and-clir",
    ),
]


@pytest.mark.parametrize(("options", "screens", "calls"), ROUTES)
def test_where_a_call_goes(
    world: World, options: dict[str, Any], screens: list[Screen], calls: list[tuple[str, Expected]]
) -> None:
    world.set_up(options, screens)
    alice = world.line(ALICE_LINE)
    routed = {dialled: world.plan.route(dialled, alice) for dialled, _ in calls}
    assert routed == {dialled: expected(world) for dialled, expected in calls}


def test_the_lock_is_lifted_with_the_option(world: World) -> None:
    world.set_up(LOCKED)
    alice = world.line(ALICE_LINE)
    assert world.plan.route("0612345678", alice) == Barred(MOBILE, BarReason.LOCKED)
    world.set_up({"lock_out_call": False})
    assert world.plan.route("0612345678", alice) == ToOutside(MOBILE, world.trunk, SHOWN)


def test_another_lines_options_do_not_bar_this_one(world: World) -> None:
    world.set_up(LOCKED | CLIR, [(OUT, WHITE, MOBILE, False)], number=COLLEAGUE)
    alice = world.line(ALICE_LINE)
    assert world.plan.route("0612345679", alice) == ToOutside("+33612345679", world.trunk, SHOWN)


# --- route_forward: where a forward of Alice's line goes -----------------------------------------------------------


FORWARDS: list[Any] = [
    pytest.param(
        {},
        (),
        [
            (COLLEAGUE, lambda w: ToLine(w.line(COLLEAGUE))),
            (BOB_LINE, lambda w: ToLine(w.line(BOB_LINE), outgoing=True)),  # another account's line
            (MOBILE, lambda w: ToOutside(MOBILE, w.trunk)),
            (FREE, just(Unassigned(FREE))),
        ],
        id="nothing-set",
    ),
    pytest.param(
        LOCKED,
        (),
        [
            (MOBILE, just(Barred(MOBILE, BarReason.LOCKED))),
            (COLLEAGUE, lambda w: ToLine(w.line(COLLEAGUE))),  # a line of the account is no outgoing call
            (BOB_LINE, just(Barred(BOB_LINE, BarReason.LOCKED))),  # another account's is
            (FREE, just(Unassigned(FREE))),
        ],
        id="locked",
    ),
    pytest.param(
        {},
        [(OUT, BLACK, "06", True), (OUT, BLACK, COLLEAGUE, False)],
        [
            (MOBILE, just(Barred(MOBILE, BarReason.SCREENED))),
            (PREMIUM, lambda w: ToOutside(PREMIUM, w.trunk)),
            (COLLEAGUE, lambda w: ToLine(w.line(COLLEAGUE))),
        ],
        id="outgoing-blacklist",
    ),
    pytest.param(
        {},
        [(OUT, WHITE, PREMIUM, False)],
        [
            (MOBILE, just(Barred(MOBILE, BarReason.SCREENED))),
            (PREMIUM, lambda w: ToOutside(PREMIUM, w.trunk)),
            (BOB_LINE, just(Barred(BOB_LINE, BarReason.SCREENED))),
            (COLLEAGUE, lambda w: ToLine(w.line(COLLEAGUE))),
        ],
        id="outgoing-whitelist",
    ),
    pytest.param(
        {},
        [(IN, BLACK, MOBILE, False)],
        [(MOBILE, lambda w: ToOutside(MOBILE, w.trunk))],
        id="incoming-list-leaves-forwards",
    ),
]


@pytest.mark.parametrize(("options", "screens", "forwards"), FORWARDS)
def test_where_a_forward_goes(
    world: World, options: dict[str, Any], screens: list[Screen], forwards: list[tuple[str, Expected]]
) -> None:
    world.set_up(options, screens)
    alice = world.line(ALICE_LINE)
    routed = {number: world.plan.route_forward(number, alice) for number in (n for n, _ in forwards)}
    assert routed == {number: expected(world) for number, expected in forwards}


def test_a_forward_to_another_billing_group_of_the_account_stays_inside(world: World) -> None:
    """An account's lines in its other billing groups are its own: no outgoing call, no barring."""
    services = world.platform.services
    branch = services.billing_groups.create(world.alice.principal.account_id, "Agence").id
    services.lines.create(branch, BRANCH, "Agence")
    world.set_up(LOCKED)
    assert world.plan.route_forward(BRANCH, world.line(ALICE_LINE)) == ToLine(world.line(BRANCH))


def test_a_forward_out_without_a_trunk_has_no_route(world: World) -> None:
    world.platform.services.trunks.remove("carrier")
    assert world.plan.route_forward(MOBILE, world.line(ALICE_LINE)) == NoRoute(MOBILE)


def test_the_forwarding_lines_barring_applies_not_the_callers(world: World) -> None:
    world.set_up(LOCKED, [(OUT, WHITE, COLLEAGUE, False)], number=COLLEAGUE)
    assert world.plan.route_forward(MOBILE, world.line(ALICE_LINE)) == ToOutside(MOBILE, world.trunk)
    assert world.plan.route_forward(MOBILE, world.line(COLLEAGUE)) == Barred(MOBILE, BarReason.LOCKED)


# --- at_line: what Alice's options make of a call arriving at her line --------------------------------------------


IDLE = Arrival(registered=True, calls_in_progress=0)
IN_A_CALL = Arrival(registered=True, calls_in_progress=1)
AT_LIMIT = Arrival(registered=True, calls_in_progress=2)
"""A line is created with 2 simultaneous calls."""
OFFLINE = Arrival(registered=False, calls_in_progress=0)
BUSY_TO_MOBILE = {"forward_busy": True, "forward_busy_number": MOBILE}
ARRIVALS: list[Any] = [
    pytest.param(
        {},
        (),
        [
            (IDLE, BOB_LINE, (), Ring(20, no_reply_forward=False)),
            (IN_A_CALL, BOB_LINE, (), Ring(20, no_reply_forward=False)),  # call waiting, under the limit
            (AT_LIMIT, BOB_LINE, (), ToVoicemail(ALICE_LINE)),
            (OFFLINE, BOB_LINE, (), ToVoicemail(ALICE_LINE)),
            (Situation.NO_REPLY, BOB_LINE, (), ToVoicemail(ALICE_LINE)),
            (IDLE, None, (), Ring(20, no_reply_forward=False)),  # anonymous calls are taken
        ],
        id="nothing-set",
    ),
    pytest.param(
        VOICEMAIL_OFF,
        (),
        [
            (IDLE, BOB_LINE, (), KEEP_RINGING),
            (OFFLINE, BOB_LINE, (), UNAVAILABLE),
            (AT_LIMIT, BOB_LINE, (), BUSY),
        ],
        id="voicemail-off",
    ),
    pytest.param(
        {"forward_backup": True, "forward_backup_number": "06 12 34 56 78"},
        (),
        [
            (OFFLINE, BOB_LINE, (), ForwardTo(MOBILE, ForwardReason.NOT_REGISTERED)),
            (IDLE, BOB_LINE, (), Ring(20, no_reply_forward=False)),
        ],
        id="backup-forward",
    ),
    pytest.param(
        BUSY_TO_MOBILE,
        (),
        [
            (AT_LIMIT, BOB_LINE, (), ForwardTo(MOBILE, ForwardReason.BUSY)),
            (IN_A_CALL, BOB_LINE, (), Ring(20, no_reply_forward=False)),
            (Situation.BUSY, BOB_LINE, (), ForwardTo(MOBILE, ForwardReason.BUSY)),  # the phone said busy
        ],
        id="busy-forward",
    ),
    pytest.param(
        {"forward_busy": True, "forward_busy_nature": "voicemail", "forward_busy_number": COLLEAGUE},
        (),
        [(AT_LIMIT, BOB_LINE, (), ToVoicemail(COLLEAGUE))],
        id="busy-forward-to-a-colleagues-voicemail",
    ),
    pytest.param(
        {"call_waiting": False} | VOICEMAIL_OFF,
        (),
        [(IN_A_CALL, BOB_LINE, (), BUSY), (IDLE, BOB_LINE, (), KEEP_RINGING)],
        id="no-call-waiting",
    ),
    pytest.param(
        {"call_waiting": False} | BUSY_TO_MOBILE,
        (),
        [(IN_A_CALL, BOB_LINE, (), ForwardTo(MOBILE, ForwardReason.BUSY))],
        id="no-call-waiting-busy-forward",
    ),
    pytest.param(
        {"forward_no_reply": True, "forward_no_reply_number": MOBILE, "forward_no_reply_delay": 30},
        (),
        [
            (IDLE, BOB_LINE, (), Ring(30, no_reply_forward=True)),
            (Situation.NO_REPLY, BOB_LINE, (), ForwardTo(MOBILE, ForwardReason.NO_REPLY)),
        ],
        id="no-reply-forward",
    ),
    pytest.param(
        {"forward_unconditional": True, "forward_unconditional_number": MOBILE},
        [(IN, BLACK, BOB_LINE, False), (IN, BLACK, "+44", True)],
        [
            (IDLE, BOB_LINE, (), SCREENED_OUT),  # refused before any forward
            (IDLE, "+442079460000", (), SCREENED_OUT),
            (IDLE, COLLEAGUE, (), ForwardTo(MOBILE, ForwardReason.UNCONDITIONAL)),
            (IDLE, None, (), ForwardTo(MOBILE, ForwardReason.UNCONDITIONAL)),
        ],
        id="incoming-blacklist",
    ),
    pytest.param(
        {},
        [(IN, WHITE, COLLEAGUE, False)],
        [
            (IDLE, COLLEAGUE, (), Ring(20, no_reply_forward=False)),
            (IDLE, BOB_LINE, (), SCREENED_OUT),
            (OFFLINE, BOB_LINE, (), SCREENED_OUT),
            (IDLE, None, (), SCREENED_OUT),
        ],
        id="incoming-whitelist",
    ),
    pytest.param(
        {},
        [(OUT, BLACK, BOB_LINE, False)],
        [(IDLE, BOB_LINE, (), Ring(20, no_reply_forward=False))],
        id="outgoing-list-leaves-incoming-calls",
    ),
    pytest.param(
        {"anonymous_call_rejection": True, "do_not_disturb": True},
        [(IN, BLACK, BOB_LINE, False)],
        [
            (IDLE, None, (), ANONYMOUS_REJECTED),
            (OFFLINE, None, (), ANONYMOUS_REJECTED),
            (IDLE, BOB_LINE, (), SCREENED_OUT),
            (IDLE, COLLEAGUE, (), ToVoicemail(ALICE_LINE)),  # do not disturb, for a caller who shows a number
        ],
        id="anonymous-rejection",
    ),
    pytest.param(
        {
            "forward_unconditional": True,
            "forward_unconditional_nature": "line",
            "forward_unconditional_number": COLLEAGUE,
        },
        (),
        [
            (IDLE, BOB_LINE, (), ForwardTo(COLLEAGUE, ForwardReason.UNCONDITIONAL)),
            (IDLE, BOB_LINE, (BOB_LINE,), ForwardTo(COLLEAGUE, ForwardReason.UNCONDITIONAL)),
            (IDLE, BOB_LINE, (COLLEAGUE,), ToVoicemail(ALICE_LINE)),  # back to where it came from
            (IDLE, BOB_LINE, ("+33100000001",) * MAX_FORWARDS, ToVoicemail(ALICE_LINE)),
        ],
        id="forward-loop",
    ),
    pytest.param(
        {"forward_unconditional": True, "forward_unconditional_number": COLLEAGUE} | VOICEMAIL_OFF,
        (),
        [(IDLE, BOB_LINE, (BOB_LINE, COLLEAGUE), BUSY)],
        id="forward-loop-without-voicemail",
    ),
]


@pytest.mark.parametrize(("options", "screens", "calls"), ARRIVALS)
def test_what_the_line_makes_of_a_call(
    world: World,
    options: dict[str, Any],
    screens: list[Screen],
    calls: list[tuple[Situation | Arrival, str | None, tuple[str, ...], forwarding.Decision]],
) -> None:
    world.set_up(options, screens)
    alice = world.line(ALICE_LINE)
    decided = [world.plan.at_line(alice, arrival, caller, through) for arrival, caller, through, _ in calls]
    assert decided == [expected for *_, expected in calls]


def test_the_simultaneous_calls_limit_is_the_lines(world: World) -> None:
    services, alice = world.platform.services, world.alice
    services.lines.create(alice.group, "+33999001236", "Standard", simultaneous_calls=1)
    world.set_up(BUSY_TO_MOBILE, number="+33999001236")
    single = world.line("+33999001236")
    assert world.plan.at_line(single, IN_A_CALL, BOB_LINE) == ForwardTo(MOBILE, ForwardReason.BUSY)
    assert world.plan.at_line(single, IDLE, BOB_LINE) == Ring(20, no_reply_forward=False)


def test_two_lines_forwarding_to_each_other_stop_at_the_second(world: World) -> None:
    """Alice forwards to her colleague, who forwards back to her: the call ends on the colleague's voicemail."""
    forward = {"forward_unconditional": True, "forward_unconditional_nature": "line"}
    world.set_up(forward | {"forward_unconditional_number": COLLEAGUE})
    world.set_up(forward | {"forward_unconditional_number": ALICE_LINE}, number=COLLEAGUE)
    alice, colleague = world.line(ALICE_LINE), world.line(COLLEAGUE)
    first = world.plan.at_line(alice, IDLE, BOB_LINE)
    assert isinstance(first, ForwardTo) and first == ForwardTo(COLLEAGUE, ForwardReason.UNCONDITIONAL)
    assert world.plan.route_forward(first.number, alice) == ToLine(colleague)
    assert world.plan.at_line(colleague, IDLE, BOB_LINE, [ALICE_LINE]) == ToVoicemail(COLLEAGUE)


def test_a_forwards_voicemail_is_a_box_of_the_account_or_the_lines_own(world: World) -> None:
    """A forward to a voicemail names a line of the account; one that has changed hands since (here, another
    account's line) leaves the message in the forwarding line's own box, never in a stranger's."""
    alice, colleague = world.line(ALICE_LINE), world.line(COLLEAGUE)
    assert world.plan.box_line(COLLEAGUE, alice) == colleague
    assert world.plan.box_line(ALICE_LINE, alice) == alice
    assert world.plan.box_line(BOB_LINE, alice) == alice
    assert world.plan.box_line(FREE, alice) == alice
