"""Walking several table columns at once with GETBULK, over any :class:`Session`.

All unfinished columns go into each request, so a 48-port switch's counters arrive row by row in
a few packets instead of one walk per column. A column ends when the agent leaves its subtree,
reports endOfMibView, or stops advancing (a broken agent must not loop us forever).
"""

from __future__ import annotations

from collections.abc import Sequence

from collectors.snmp import ber
from collectors.snmp.session import Session, SnmpError

Oid = tuple[int, ...]
Column = dict[Oid, tuple[int, object]]  # index suffix -> (tag, value)

MAX_REQUESTS_PER_WALK = 2000
_EXCEPTIONS = (ber.NO_SUCH_OBJECT, ber.NO_SUCH_INSTANCE, ber.END_OF_MIB_VIEW)


async def walk_columns(session: Session, roots: Sequence[Oid], varbinds_per_request: int = 50,
                       max_repetitions: int = 25) -> dict[Oid, Column]:
    """Return ``{root: {index: (tag, value)}}`` for every root, walked to its end."""
    results: dict[Oid, Column] = {root: {} for root in roots}
    cursors: dict[Oid, Oid] = {root: root for root in roots}
    active = list(dict.fromkeys(roots))
    budget = varbinds_per_request
    for _ in range(MAX_REQUESTS_PER_WALK):
        if not active:
            return results
        width = len(active)
        reps = max(1, min(max_repetitions, budget // width))
        try:
            varbinds = await session.get_bulk([cursors[r] for r in active], reps)
        except SnmpError as exc:
            if exc.reason == "too_big" and budget > width:
                budget = max(width, budget // 2)  # the agent cannot fit the answer: ask for fewer rows
                continue
            raise
        if not varbinds:
            raise SnmpError("empty_response", "agent answered a GETBULK with no varbinds")
        finished: set[Oid] = set()
        advanced: set[Oid] = set()
        for i, (oid, tag, value) in enumerate(varbinds):
            root = active[i % width]
            if root in finished:
                continue
            if tag in _EXCEPTIONS or oid[: len(root)] != root:
                finished.add(root)
                continue
            if oid <= cursors[root]:
                raise SnmpError("oid_not_increasing", f"agent returned {ber.oid_to_str(oid)} after "
                                f"{ber.oid_to_str(cursors[root])}")
            results[root][oid[len(root):]] = (tag, value)
            cursors[root] = oid
            advanced.add(root)
        stalled = [r for r in active if r not in finished and r not in advanced]
        if stalled:
            raise SnmpError("walk_stalled", f"agent did not advance {ber.oid_to_str(stalled[0])}")
        active = [r for r in active if r not in finished]
    raise SnmpError("walk_too_long", f"walk did not finish within {MAX_REQUESTS_PER_WALK} requests")
