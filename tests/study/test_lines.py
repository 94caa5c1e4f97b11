"""ecoseg.study._lines: a study file read as yaml.safe_load reads it, but a value YAML cannot
build is named with its line (a date's kept as text for the date check)."""

from __future__ import annotations

import datetime

import pytest
import yaml

from ecoseg.study._lines import ValueNotRead, key_lines, read_yaml

VALID = """\
base: &base {engine: classical, date: 2024-03-12, fps: 0.5}
videos:
  - <<: *base
    path: a.mp4
    when: 2024-03-12 10:30:00
    stamp: 2001-12-14t21:59:43.10-05:00
    values: [1, 2.5, true, null, ~, 0x1f, 1_000, .inf, "2023-13-45", 'x', !!binary aGk=]
  - *base
"""


def test_a_valid_file_reads_as_safe_load_reads_it():
    assert read_yaml(VALID) == yaml.safe_load(VALID)
    assert read_yaml(VALID)["videos"][0]["date"] == datetime.date(2024, 3, 12)  # merged
    assert read_yaml("") is None and read_yaml("# only a comment\n") is None


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a: 1\nb:\n  c: 2023-13-45\n", 3, "'2023-13-45' is not a valid timestamp (month"),
        ("- 1\n- !!int one\n", 2, "'one' is not a valid int"),
        ("x: !!bool maybe\n", 1, "'maybe' is not a valid bool"),
        ("x: !!timestamp soon\n", 1, "'soon' is not a valid timestamp"),
        ("2023-13-45: x\n", 1, "'2023-13-45' is not a valid timestamp"),  # a key
    ],
)
def test_a_value_yaml_cannot_build_is_named_with_its_line(text, line, problem):
    # yaml.safe_load raised ValueError, KeyError or AttributeError, naming no line
    with pytest.raises(ValueNotRead) as info:
        read_yaml(text)
    assert info.value.line == line and str(info.value).startswith(problem)
    assert ("in quotes" in str(info.value)) == ("!!" not in text and "timestamp" in problem)


def test_a_date_yaml_cannot_build_is_kept_as_its_text_for_the_date_check():
    text = "videos:\n  - path: a.mp4\n    date: 2023-13-45\n"
    assert read_yaml(text) == {"videos": [{"path": "a.mp4", "date": "2023-13-45"}]}
    assert key_lines(text)[("videos", 0)]["date"] == 3  # where the date check names it
