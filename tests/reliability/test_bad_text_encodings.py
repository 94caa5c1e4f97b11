"""Prompt, settings and study files saved in another text encoding than UTF-8.

A class name with an accent saved by an editor in Latin-1 (``"mérou"``), a file saved as
Windows' "Unicode" (UTF-16) or a video given as the prompt file were all *not a text (JSON)
file* (the settings file: Python's codec message); a file saved as "UTF-8 with BOM" (older
Windows Notepad, PowerShell 5's ``Out-File -Encoding utf8``) was *invalid JSON ... Unexpected
UTF-8 BOM (decode using utf-8-sig)*. Now the BOM is dropped and the rest are one line naming
the file, the encoding, and for a Latin-1 file the line and byte, as an annotation file's are
(``ecoseg._paths.read_file_text``).
"""

from __future__ import annotations

import json

import pytest
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg._cli import engine_params
from ecoseg.errors import ConfigError, PromptError
from ecoseg.study import load_study

pytestmark = pytest.mark.bad_input

_PROMPTS = json.dumps(
    {"objects": [{"id": 1, "class": "mérou", "prompts": [{"frame": 0, "points": [[10, 10]]}]}]},
    ensure_ascii=False,
)

# (case id, the file's bytes, what the message must say)
ENCODINGS = [
    ("latin-1", _PROMPTS.encode("latin-1"), "line 1: not UTF-8 text (byte 0xe9); save it as UTF-8"),
    ("utf-16", _PROMPTS.encode("utf-16"), "UTF-16 text, not UTF-8; save it as UTF-8"),
    # no byte order mark (a script's UTF-16-LE): it was "not a text (JSON) file (NUL bytes)"
    ("utf-16-no-bom", _PROMPTS.encode("utf-16-le"), "UTF-16 text, not UTF-8; save it as UTF-8"),
    ("binary", bytes(4) + b"ftypisom\x9f", "not a text (JSON) file (it holds NUL bytes"),
]


@pytest.mark.parametrize(
    ("data", "culprit"), [c[1:] for c in ENCODINGS], ids=[c[0] for c in ENCODINGS]
)
def test_a_prompt_file_in_another_encoding_is_named_so(data, culprit, clip, tmp_path, cli):
    path = tmp_path / "prompts.json"
    path.write_bytes(data)
    with pytest.raises(PromptError) as info:
        ecoseg.load_prompts(path)
    assert_names(info, f"{path}: {culprit}")
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, "--prompts", path, "--random-weights")
    assert_one_line_error(code, err, f"{path}: {culprit}")
    assert not out.exists()


@pytest.mark.parametrize(
    ("data", "culprit"),
    [(b'{"min_area": 30, "note": "m\xe9rou"}', "line 1: not UTF-8 text (byte 0xe9)")]
    + [('{"min_area": 30}'.encode("utf-16"), "UTF-16 text, not UTF-8")],
    ids=["latin-1", "utf-16"],
)
def test_a_settings_file_in_another_encoding_is_named_so(data, culprit, clip, tmp_path, cli):
    # the UTF-16 file was "not a text file ('utf-8' codec can't decode byte 0xff in position 0:
    # invalid start byte)"
    path = tmp_path / "settings.json"
    path.write_bytes(data)
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, "--params", path)
    assert_one_line_error(code, err, f"{path}: {culprit}")
    assert not out.exists()


def test_a_prompt_or_settings_file_with_a_byte_order_mark_is_read(tmp_path):
    prompts = tmp_path / "prompts.json"
    prompts.write_bytes(b"\xef\xbb\xbf" + _PROMPTS.encode("utf-8"))
    assert [o.class_ for o in ecoseg.load_prompts(prompts).objects] == ["mérou"]
    settings = tmp_path / "settings.json"
    settings.write_bytes(b'\xef\xbb\xbf{"min_area": 30}\r\n')
    assert engine_params(str(settings)) == {"min_area": 30}


_STUDY = "name: récif\noutput: out\nvideos: []\n"


@pytest.mark.parametrize(
    ("data", "culprit"),
    [
        (_STUDY.encode("latin-1"), "line 1: not UTF-8 text (byte 0xe9); save it as UTF-8"),
        (_STUDY.encode("utf-16"), "UTF-16 text, not UTF-8; save it as UTF-8"),
        (_STUDY.encode("utf-16-le"), "UTF-16 text, not UTF-8; save it as UTF-8"),
    ],
    ids=["latin-1", "utf-16", "utf-16-no-bom"],
)
def test_a_study_file_in_another_encoding_is_named_so(data, culprit, tmp_path, cli):
    # the reader's words, not study.config's own 'not a text (YAML) file' (dead code, removed);
    # without a byte order mark it was 'not a text (YAML) file (it holds NUL bytes: ...)'
    path = tmp_path / "study.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as info:
        load_study(path)
    assert str(info.value) == f"{path}: {culprit}"
    code, _, err = cli("study", path, "--check")
    assert_one_line_error(code, err, f"{path}: {culprit}")
    assert not (tmp_path / "out").exists()
