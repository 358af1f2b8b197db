"""Calls run on threads of their own, released together, for tests of what concurrent callers may and may not do."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


def at_once(calls: Sequence[Callable[[], object]]) -> list[BaseException]:
    """Run every call on a thread of its own, all released together by a barrier; what they raised (empty when
    none did)."""
    barrier = threading.Barrier(len(calls))
    raised: list[BaseException] = []

    def one(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as exc:  # surfaced to the test
            raised.append(exc)

    threads = [threading.Thread(target=one, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return raised
