"""Walking several table columns at once with GETBULK (RFC 3416 §4.2.3), over any :class:`Session`.

All unfinished columns go into each request, so a 48-port switch's counters arrive row by row in
a few packets instead of one walk per column. Varbind ``i`` of a reply belongs to the column at
position ``i % width`` of the request; each column advances on its own:

* a column ends when the agent leaves its subtree or reports endOfMibView (per column);
* a reply may legally be shorter than asked (an agent's varbind or message-size cap): the columns
  that got nothing are asked first next time, and the device's cap is remembered;
* tooBig halves the varbinds asked of that device, and the device keeps the smaller size;
* more rows than asked (the agent ignores max-repetitions), rows out of order and rows seen before
  (a loop) are counted as anomalies; a column that makes no progress ends there.

Anomalies are counted per device in :class:`WalkLimits` and never end a poll by themselves: the
values read so far are good values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from collectors.snmp import ber
from collectors.snmp.session import Session, SnmpError

Oid = tuple[int, ...]
Column = dict[Oid, tuple[int, object]]  # index suffix -> (tag, value)

MAX_REQUESTS_PER_WALK = 2000
# The fixed set of anomaly kinds (a metric label): nothing else is ever counted.
ANOMALY_KINDS = ("short_reply", "ignored_max_repetitions", "out_of_order", "loop", "too_big")
_EXCEPTIONS = (ber.NO_SUCH_OBJECT, ber.NO_SUCH_INSTANCE, ber.END_OF_MIB_VIEW)


@dataclass
class WalkLimits:
    """What one device's agent accepts, learnt across polls, and what it did wrong."""

    varbinds_per_request: int = 120
    max_repetitions: int = 25
    reply_cap: int | None = None  # the most varbinds the agent ever returned in a short reply
    anomalies: Counter[str] = field(default_factory=Counter)

    def count(self, kind: str) -> None:
        assert kind in ANOMALY_KINDS, kind
        self.anomalies[kind] += 1


async def walk_columns(session: Session, roots: Sequence[Oid], limits: WalkLimits | None = None) -> dict[Oid, Column]:
    """Return ``{root: {index: (tag, value)}}`` for every root, walked to its end."""
    limits = limits or WalkLimits()
    results: dict[Oid, Column] = {root: {} for root in roots}
    cursors: dict[Oid, Oid] = {root: root for root in roots}
    active = list(dict.fromkeys(roots))
    for _ in range(MAX_REQUESTS_PER_WALK):
        if not active:
            return results
        budget = limits.varbinds_per_request
        if limits.reply_cap is not None:
            budget = min(budget, limits.reply_cap)
        asked = active[: max(1, min(len(active), budget))]
        width = len(asked)
        reps = max(1, min(limits.max_repetitions, budget // width))
        try:
            varbinds = await session.get_bulk([cursors[r] for r in asked], reps)
        except SnmpError as exc:
            if exc.reason == "too_big" and limits.varbinds_per_request > 1:
                limits.count("too_big")
                limits.varbinds_per_request = max(1, limits.varbinds_per_request // 2)
                continue
            raise
        if not varbinds:
            if width == 1:
                raise SnmpError("empty_response", "agent answered a GETBULK with no varbinds")
            # net-snmp with maxGetbulkResponses answers an over-wide request with nothing at all:
            # ask for fewer columns at once
            limits.count("short_reply")
            limits.reply_cap = max(1, width // 2)
            continue
        n = len(varbinds)
        if n > width * reps:
            limits.count("ignored_max_repetitions")
        finished: set[Oid] = set()
        advanced: set[Oid] = set()
        for i, (oid, tag, value) in enumerate(varbinds):
            root = asked[i % width]
            if root in finished:
                continue
            if tag in _EXCEPTIONS or oid[: len(root)] != root:
                finished.add(root)
                continue
            index = oid[len(root):]
            if oid <= cursors[root]:
                column = results[root]
                if index in column:
                    limits.count("loop")
                    finished.add(root)
                else:
                    limits.count("out_of_order")
                    column[index] = (tag, value)
                continue
            results[root][index] = (tag, value)
            cursors[root] = oid
            advanced.add(root)
        answered = {asked[i] for i in range(min(n, width))}
        if n < width * reps and not finished.issuperset(asked):
            # a legal short reply (RFC 3416 §4.2.3): remember the agent's cap so requests fit it
            limits.count("short_reply")
            limits.reply_cap = max(limits.reply_cap or 0, n)
        # a column that got varbinds but did not move forward would be asked the same forever
        finished |= answered - advanced
        if not finished and not advanced:
            raise SnmpError("walk_stalled", f"agent did not advance {ber.oid_to_str(asked[0])}")
        # columns the reply did not reach go first next time, so a capped agent serves them all
        starved = [r for r in active if r not in finished and r not in answered]
        rest = [r for r in active if r not in finished and r in answered]
        active = starved + rest
    raise SnmpError("walk_too_long", f"walk did not finish within {MAX_REQUESTS_PER_WALK} requests")
