"""ecoseg.study.records: which fields of a VideoSpec are settings (one video listed twice with
the same settings is one entry copied)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ecoseg.errors import ConfigError
from ecoseg.study._across import check_once
from ecoseg.study.records import NOT_SETTINGS, VideoSpec, setting_fields


def test_every_field_is_a_setting_or_named_as_none():
    fields = [f.name for f in dataclasses.fields(VideoSpec)]
    settings = setting_fields()
    assert sorted(settings + tuple(NOT_SETTINGS)) == sorted(fields)  # each once, none left
    assert set(NOT_SETTINGS) <= set(fields), "an exclusion names no field (renamed?)"
    assert all(isinstance(why, str) and why for why in NOT_SETTINGS.values())


@dataclasses.dataclass(frozen=True)
class _Newer(VideoSpec):
    """A VideoSpec with a setting added after this test was written."""

    contrast: float = 1.0


def test_a_new_field_is_a_setting_unless_named_otherwise():
    # a hand-kept tuple of settings refused two entries differing only in a new setting as
    # one entry copied, until someone remembered to add it there
    assert "contrast" in setting_fields(_Newer)
    a = _Newer("a", Path("/s/v.mp4"), "v.mp4", site="N")
    earlier = []
    check_once(a, 0, earlier, "study.yaml: line 3: videos[0]")
    check_once(dataclasses.replace(a, name="b", contrast=2.0), 1, earlier, "videos[1]")
    assert len(earlier) == 2  # two settings of one video compared: kept
    with pytest.raises(ConfigError, match="with the same settings"):
        check_once(dataclasses.replace(a, name="c", notes="again"), 2, earlier, "videos[2]")
