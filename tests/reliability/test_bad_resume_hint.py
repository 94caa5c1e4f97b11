"""An unfinished store met again: the command that resumes it, with the run's recorded options.

``ecoseg segment`` given an interrupted run's store as its output (without ``--resume``)
refused with ``--resume to continue its interrupted run``, and ``ecoseg info`` and ``measure``
said ``ecoseg segment VIDEO -o STORE --resume`` "and the run's options", though the store's
provenance records them: a resume without them is refused (the parameters differ), so the
user had to remember them. Each now gives the whole command, pasteable
(:func:`ecoseg.store.resume_hint`, the options built as the report's *Reproduce* section
builds them). ``--resume`` of a store that was complete already printed only ``masks: X``.
"""

from __future__ import annotations

import shlex

import pytest
from reliability_helpers import assert_one_line_error

import ecoseg
from ecoseg.measure import IncompleteStoreWarning

PARAMS = {"threshold": 4.0}  # not the default: a resume without it is refused


@pytest.fixture
def interrupted(clip, tmp_path):
    """A classical run with ``--params`` stopped (Ctrl-C) after 3 frames, into a path that
    needs quoting."""
    out = tmp_path / "reef 1.zarr"

    def interrupt(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ecoseg.segment(clip.video, out=out, params=PARAMS, progress=interrupt)
    return out


def _command(line: str) -> list[str]:
    """The backquoted command in ``line``, split as a shell splits it."""
    assert line.count("`") == 2, line
    return shlex.split(line.split("`")[1])


@pytest.mark.bad_input
def test_an_unfinished_output_store_is_refused_with_the_command_that_resumes_it(
    interrupted, clip, cli, tmp_path
):
    code, _, err = cli("segment", clip.video, "-o", interrupted)
    line = assert_one_line_error(
        code, err, str(interrupted), "--resume to continue its interrupted run (3 frames stored)"
    )
    command = _command(line)
    assert command[:2] == ["ecoseg", "segment"] and "--resume" in command
    assert command[command.index("--engine") + 1] == "classical"
    # pasted as given, it finishes the run: the masks of an uninterrupted one
    code, out, err = cli(*command[1:])
    assert code == 0, err
    assert out == f"masks: {interrupted}\n"
    whole = tmp_path / "whole.zarr"
    ecoseg.segment(clip.video, out=whole, params=PARAMS, progress=False)
    assert ecoseg.open_masks(interrupted).labels.equals(ecoseg.open_masks(whole).labels)


@pytest.mark.bad_input
def test_info_and_measure_name_the_run_options_of_an_unfinished_store(interrupted, cli, tmp_path):
    code, out, _ = cli("info", interrupted)
    assert code == 0
    state = next(line for line in out.splitlines() if line.strip().startswith("frames"))
    assert "and the run's options" not in state, state
    wanted = shlex.split(state.split("continue with ", 1)[1])
    assert wanted[wanted.index("--params") + 1].startswith("{") and "--resume" in wanted
    with pytest.warns(IncompleteStoreWarning) as said:
        ecoseg.measure(interrupted)
    assert _command(str(said[0].message)) == wanted  # the one command, in both


@pytest.mark.bad_input
def test_resume_of_a_complete_store_says_nothing_was_left_to_do(interrupted, clip, cli):
    options = ["--resume", "--params", '{"threshold": 4.0}']
    code, out, err = cli("segment", clip.video, "-o", interrupted, *options)
    assert code == 0, err
    assert out == f"masks: {interrupted}\n"  # it had frames to track
    code, out, err = cli("segment", clip.video, "-o", interrupted, *options)
    assert code == 0, err
    assert out == f"masks: {interrupted} (complete already: nothing was left to do)\n"
