"""``ecoseg synth`` settings beyond what one clip can be: one line naming the option and value
before any work, nothing written.

``--frames`` had no upper bound: a zero too many (``--frames 100000000``) ran for minutes on
per-frame tables, writing nothing and saying nothing, and would have filled the disk.
"""

from __future__ import annotations

import pytest
from reliability_helpers import assert_names, assert_one_line_error, run_cli

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.synth.scene import MAX_FRAMES

pytestmark = pytest.mark.bad_input


def test_too_many_frames_is_refused_at_once(tmp_path):
    out = tmp_path / "clip"
    done = run_cli("synth", "-o", out, "--frames", 10**8, "--size", "32x32", "--quiet", timeout=60)
    assert_one_line_error(done.returncode, done.stderr, "--frames", str(10**8), str(MAX_FRAMES))
    assert not out.exists()


def test_too_many_frames_from_python_names_the_argument(tmp_path):
    with pytest.raises(ConfigError) as info:
        ecoseg.synth(tmp_path / "clip", frames=MAX_FRAMES + 1, size=(32, 32))
    assert_names(info, "frames", str(MAX_FRAMES + 1))
    assert not (tmp_path / "clip").exists()
