"""Bad discovery settings (docs/discovery.md, ``segment --auto --discovery FILE.json``):
``classes`` that is no list of rules, or ``motion_params`` that is no object, was a traceback
(``ValueError: dictionary update sequence element #0 ...``); a colour bound no mean colour can
reach made a rule that never matched, and both proposal sources off a run that found nothing,
without a word. One line naming the setting, exit 2, no store."""

from __future__ import annotations

import json

import pytest
from reliability_helpers import assert_names, assert_one_line_error

from ecoseg.engine.discovery_params import DiscoveryParams
from ecoseg.errors import ConfigError

pytestmark = pytest.mark.bad_input

RULES = [  # (the value of classes, or a whole settings object, and what is named)
    ('"fish"', 'discovery: classes must be a list of class rules ({"class": NAME, ...}), got '),
    ('{"class": "fish"}', "discovery: classes must be a list of class rules"),
    ('["fish"]', "discovery: classes[0] must be a class rule"),
    ('[{"class": "fish"}, 5]', "discovery: classes[1] must be a class rule"),
    (
        '[{"class": "tang", "min_rgb": [180, 160, 300]}]',
        "class rule 'tang': min_rgb must be [r, g, b] of 0-255, got [180, 160, 300]",
    ),
    ('[{"class": "tang", "max_rgb": [-1, 0, 0]}]', "class rule 'tang': max_rgb must be"),
    ('{"motion_params": "threshold=4"}', "discovery: motion_params must be an object of motion"),
    ('{"motion_params": [4.5]}', "discovery: motion_params must be an object"),
    ('{"generator": false, "motion": false}', "discovery: generator and motion are both false"),
    (
        '[{"class": "tang", "min_rgb": [200, 0, 0], "max_rgb": [100, 255, 255]}]',
        "class rule 'tang': min_rgb [200.0, 0.0, 0.0] is above max_rgb [100.0, 255.0, 255.0]",
    ),
    # accepted, though a prompt file refuses such classes: counted as two species
    (
        '[{"class": "Fish", "min_area": 80}, {"class": "wrasse"}, {"class": "fish"}]',
        "discovery: class rules 'Fish' and 'fish' differ only in letter case: their tracks "
        "would be counted as two species; spell them the same",
    ),
    # a class is read as a concept's name is: it said "class must be a non-empty string, got
    # '  '", and a line break or a NUL was taken (the store folded the one, kept the other)
    ('[{"class": "  "}]', 'class rule: class is blank (only spaces); give a name such as "'),
    (
        '[{"class": "fish\\nwrasse"}]',
        "class rule 'fish\\nwrasse' holds a line break: a class is one name on one line",
    ),
    ('[{"class": "fish\\u0000"}]', "class rule 'fish\\x00' holds a NUL character: a class is"),
    # said "key_interval must be >= 1": what it is, its flag, its unit and default unsaid
    (
        '{"key_interval": 0}',
        "discovery: key_interval must be a positive whole number: the key "
        "interval, in frames, from one key frame (where new organisms are looked for) to the "
        "next (default 15), got 0",
    ),
]


def _settings(text: str) -> dict:
    """The settings object of a case: a whole one, or the value of its classes."""
    given = json.loads(text)
    return given if text.startswith(('{"motion', '{"generator', '{"key')) else {"classes": given}


@pytest.mark.parametrize("classes, culprit", RULES)
def test_a_bad_class_rule_in_a_settings_file_is_one_line(classes, culprit, clip, tmp_path, cli):
    settings = tmp_path / "discovery.json"
    settings.write_text(json.dumps(_settings(classes)))
    out = tmp_path / "m.zarr"
    args = ("segment", clip.video, "-o", out, "--auto", "--random-weights")
    code, _, err = cli(*args, "--discovery", settings)
    assert_one_line_error(code, err, culprit)
    assert not out.exists()


@pytest.mark.parametrize("classes, culprit", RULES)
def test_a_bad_class_rule_in_python_is_named(classes, culprit):
    with pytest.raises(ConfigError) as exc:
        DiscoveryParams.from_dict(_settings(classes))
    assert_names(exc, culprit)


def test_rules_of_one_class_spelled_alike_are_one_class():
    """Two rules of one class (two colour ranges of a fish) stay allowed, spelled alike."""
    rules = [
        {"class": "fish", "max_rgb": [90, 255, 255]},
        {"class": "fish ", "min_rgb": [200, 0, 0]},
    ]
    assert len(DiscoveryParams.from_dict({"classes": rules}).classes) == 2


def test_a_class_rule_is_read_as_a_concept_name_is():
    """Spaces at the ends of a rule's class were kept (``" large fish "`` in the run's
    settings), where a concept's text drops them and folds runs of them."""
    rules = DiscoveryParams.from_dict({"classes": [{"class": "  large   fish "}]}).classes
    assert rules[0].name == "large fish" and rules[0].to_dict() == {"class": "large fish"}


def test_key_interval_given_on_the_command_line_is_named_so(clip, tmp_path, cli):
    out = tmp_path / "m.zarr"
    args = ("segment", clip.video, "-o", out, "--auto", "--random-weights")
    code, _, err = cli(*args, "--key-interval", "0")
    said = "ecoseg: error: --key-interval must be a positive whole number: the key interval, in"
    assert_one_line_error(code, err, said, "got 0")
    assert not out.exists()


def test_no_class_rules_may_be_given_as_null_or_an_empty_list():
    assert DiscoveryParams.from_dict({"classes": None}).classes == ()
    assert DiscoveryParams.from_dict({"classes": []}).classes == ()
