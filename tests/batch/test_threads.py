"""ecoseg.batch._threads.in_threads: calls a few at once, results and errors in input order."""

from __future__ import annotations

import threading

import pytest

from ecoseg.batch._threads import in_threads


def test_results_keep_the_input_order_whichever_call_ends_first():
    first_done = threading.Event()

    def call(i):
        if i == 0:  # the first item ends last: it waits until a later one is called
            assert first_done.wait(10), "item 0 ran before any other item was called"
        else:
            first_done.set()
        return i * 10

    assert in_threads(call, [0, 1, 2, 3], threads=2) == [0, 10, 20, 30]


def test_the_error_of_the_first_failing_item_in_input_order_is_raised():
    second_failed = threading.Event()

    def call(i):
        if i == 1:
            assert second_failed.wait(10), "item 1 ran before item 2 was called"  # 2 fails first
            raise ValueError("item 1")
        if i == 2:
            second_failed.set()
            raise KeyError("item 2")
        return i

    with pytest.raises(ValueError, match="item 1"):
        in_threads(call, list(range(6)), threads=3)
