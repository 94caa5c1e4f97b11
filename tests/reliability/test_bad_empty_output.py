"""An empty output path (``-o ""``, a shell variable left unset): ``Path("")`` is the working
folder, and the refusal named the path as ``.`` (``.: is a folder; refusing to replace it even
with overwrite``), which a user could not connect to what was typed. It is refused as empty.
"""

from __future__ import annotations

import pytest
from reliability_helpers import assert_one_line_error

import ecoseg
from ecoseg.errors import FormatError

pytestmark = pytest.mark.bad_input


@pytest.mark.parametrize("fmt", ["mot", "davis"])
def test_export_to_an_empty_path_is_refused_as_such(clip, cli, fmt):
    code, _, err = cli("export", clip.truth, "--format", fmt, "-o", "")
    assert_one_line_error(code, err, "'': the output path is empty (--out)")


def test_import_to_an_empty_path_is_refused_as_such(clip, tmp_path, cli):
    path = tmp_path / "t.txt"
    path.write_text("1,3,70,51,21,12,1,-1,-1,-1\n", encoding="utf-8")
    code, _, err = cli("import", path, "--format", "mot", "--video", clip.video, "-o", "")
    assert_one_line_error(code, err, "'': the output path is empty (--out)")


def test_the_library_export_to_an_empty_path_is_refused_as_such(clip):
    with pytest.raises(FormatError, match=r"export: out '' is empty: name the output file"):
        ecoseg.export(clip.truth, "coco", "")
