"""ecoseg._warn: a warning names the first line outside ecoseg, however deep it was raised."""

import inspect
import os
import warnings

import pytest

import ecoseg
from ecoseg._warn import warn

DEEP = """
def inner(message):
    warn(message, UserWarning)

def middle(message):
    inner(message)

def outer(message):
    middle(message)
"""


def _as_ecoseg_module():
    """Three nested functions whose code says it lives in the ecoseg package."""
    where = os.path.join(os.path.dirname(ecoseg.__file__), "_deep_for_tests.py")
    space = {"warn": warn}
    exec(compile(DEEP, where, "exec"), space)
    return space


@pytest.mark.parametrize("entry", ["inner", "middle", "outer"])
def test_the_warning_names_the_callers_line_at_any_depth(entry):
    """A fixed ``stacklevel`` named the line only for one depth: ``report`` warned at ``3``
    layers down with ``stacklevel=4``, and named a line of ecoseg once a layer was added."""
    call = _as_ecoseg_module()[entry]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        call("checked")
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


def test_once_per_line_of_the_caller():
    """Python's ``default`` filter shows a warning once per line that raises it: that line is
    now the caller's, so one line of a script calling twice hears it once, two lines twice."""
    call = _as_ecoseg_module()["outer"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(2):
            call("once here")
        call("once here")
    assert len(caught) == 2


def test_unsaid_holds_the_warnings_of_its_own_thread_only():
    """``unsaid`` keeps ecoseg's warnings of a category from being issued in the calling
    thread; another thread's of that category are heard meanwhile, and Python's warnings
    filters (the process's, not the thread's) are not touched."""
    import types

    from suite_helpers import warned_while_held

    from ecoseg._warn import unsaid

    steps = types.SimpleNamespace(step=lambda: warn("theirs", UserWarning))

    def run():
        with unsaid(UserWarning):
            steps.step()
        return "done"

    got = warned_while_held(run, steps, "step", UserWarning)
    assert got == {"filters_kept": True, "heard": True, "others": [], "result": "done"}


def test_recorded_keeps_other_libraries_warnings_of_its_own_thread_only():
    """A campaign's task kept ecoseg's warnings only: numpy's ``RuntimeWarning`` in a worker
    printed in Python's raw form ('.../numpy/...: RuntimeWarning: Mean of empty slice'),
    naming no video. Now its thread's other warnings are kept too; another thread's are not."""
    import threading

    from ecoseg._warn import recorded

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with recorded() as kept:
            warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)
            thread = threading.Thread(target=warnings.warn, args=("another thread's",))
            thread.start()
            thread.join()
    assert kept == [("Mean of empty slice", RuntimeWarning)]
    assert [str(w.message) for w in caught] == ["another thread's"]


def test_recorded_says_now_with_its_thread_s_warnings_issued_again():
    """``say_now``: each warning is handed on as it comes (a study's video segmented in the
    caller's thread said its warnings only once it had finished), none kept."""
    from ecoseg._warn import recorded, say

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with recorded(lambda m, c: say(f"a.mp4: {m}", c)) as kept:
            warn("the camera moved too fast", UserWarning)
            during = [str(w.message) for w in caught]
            warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)
    assert kept == [] and during == ["a.mp4: the camera moved too fast"]
    assert [(str(w.message), w.category) for w in caught] == [
        ("a.mp4: the camera moved too fast", UserWarning),
        ("a.mp4: Mean of empty slice", RuntimeWarning),
    ]
