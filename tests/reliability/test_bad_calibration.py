"""Bad calibrations: a CalibrationError naming the value, before anything is measured or saved."""

from __future__ import annotations

import json
import math
import shlex
import shutil
import textwrap

import pytest
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg.errors import CalibrationError, ConfigError, StoreError
from ecoseg.measure.calibration import SPEC_FORMS, Calibration, parse_calibration
from ecoseg.store import ATTRS_KEY, MaskStore

pytestmark = pytest.mark.bad_input

# (CLI spec, substrings of the message)
SPECS = [
    ("0", ["mm_per_px=0", "positive"]),
    ("-0.5", ["mm_per_px=-0.5", "positive"]),
    ("nan", ["nan", "not finite"]),
    ("inf", ["inf", "not finite"]),
    ("1e9", ["1e+09", "plausible range"]),  # metres per pixel typed as mm? no: absurd
    ("1e-9", ["1e-09", "plausible range"]),
    (
        "half",
        ["'half'", "not a number", "'0.5 mm/px'", "'scale-bar:x0,y0,x1,y1,length_mm'", "'none'"],
    ),
    # a unit other than the one ecoseg prints (`2.5 mm/px`), which means the bare number
    ("2.5 cm/px", ["'2.5 cm/px'", "unit 'cm/px' is not accepted", "'mm/px'"]),
    ("0.4 px/mm", ["'0.4 px/mm'", "unit 'px/mm' is not accepted", "'mm/px'"]),
    ("2.5 mm", ["'2.5 mm'", "unit 'mm' is not accepted", "'mm/px'"]),
    ("scale-bar:10,10,10,10,50", ["'scale-bar:10,10,10,10,50'", "zero length", "x0,y0,x1,y1"]),
    ("scale-bar:0,0,100,0", ["scale-bar", "5 numbers"]),
    ("scale-bar:0,0,100,0,-3", ["-3"]),
    ("scale-bar:0,0,100,0,0", ["positive"]),
    ("lasers:5,5,5,5,100", ["'lasers:5,5,5,5,100'", "laser pair 0", "zero distance", "x0,y0"]),
    ("lasers:0,0,100,0,nan", ["nan"]),
    ("lasers:0,0,100,0,10,3", ["lasers", "4 numbers per pair"]),
    # a decimal comma, as many locales write a number: refused, with the number to type
    ("2,5", ["'2,5'", "not a number", "(a decimal comma: write 2.5)", "'0.5 mm/px'"]),
    ("0,25 mm/px", ["'0,25 mm/px'", "(a decimal comma: write 0.25 mm/px)"]),
    ("0,500", ["'0,500'", "(a decimal comma: write 0.500)"]),
    # or a thousands separator: both readings (it asked "a decimal comma? write 1.000")
    ("1,000", ["'1,000'", "(a thousands separator or a decimal comma: write 1000 or 1.000)"]),
    ("1,000 mm/px", ["(a thousands separator or a decimal comma: write 1000 mm/px or 1.000 mm"]),
    ("12,500", ["'12,500'", "(a decimal comma: write 12.500)"]),  # 12500 mm/px: implausible
    (
        "ruler:0,0,1,1,5",
        ["unknown kind 'ruler'; give", "'0.5 mm/px'", "'scale-bar:x0,y0,x1,y1,length_mm'"],
    ),
    # a misspelt kind: the closest one (it listed the forms only)
    ("lazers:0,0,10,0,5", ["unknown kind 'lazers' (did you mean 'lasers'?); give"]),
    ("Scalebar:0,0,10,0,5", ["unknown kind 'scalebar' (did you mean 'scale-bar'?); give"]),
    (
        "",
        ["calibration ''", "'0.5 mm/px'", "'scale-bar:x0,y0,x1,y1,length_mm'", "'none'"],
    ),  # an empty shell variable: the CLI measured uncalibrated
]


@pytest.mark.parametrize(("spec", "culprits"), SPECS, ids=[s for s, _ in SPECS])
def test_bad_calibration_spec(spec, culprits, clip, tmp_path, cli):
    store = tmp_path / "m.zarr"
    shutil.copytree(clip.truth, store)
    before = MaskStore.open(store).calibration
    with pytest.raises(CalibrationError) as info:
        parse_calibration(spec)
    assert_names(info, *culprits)
    code, _, err = cli("measure", store, "-o", tmp_path / "tables", "--calibration", spec)
    assert_one_line_error(code, err, *culprits)
    assert not (tmp_path / "tables").exists()  # nothing measured...
    assert MaskStore.open(store).calibration == before  # ...and nothing saved


@pytest.mark.parametrize("spec", ["2,5,3", "2, 5", "2,5 cm/px", "scale-bar:0,0,200,0,12,5"])
def test_commas_that_are_no_decimal_comma_get_no_such_hint(spec):
    """Only a number with one comma between digits, which is a spec with a point there, is
    said to be a decimal comma: several numbers, or another unit, are refused as before."""
    with pytest.raises(CalibrationError, match=f"calibration {spec!r}: ") as info:
        parse_calibration(spec)
    assert "decimal comma" not in str(info.value)


@pytest.mark.parametrize("spec", ["0", "-0.5", "0 mm/px", "nan", "1e9"])
def test_refused_number_quotes_the_spec_typed(spec, clip, tmp_path, cli):
    """`--calibration 0` was refused as `calibration mm_per_px=0 must be positive`: neither
    what was typed nor what to type instead."""
    store = tmp_path / "m.zarr"
    shutil.copytree(clip.truth, store)
    code, _, err = cli("measure", store, "-o", tmp_path / "tables", "--calibration", spec)
    assert_one_line_error(code, err, f"calibration {spec!r}: ", f"; give {SPEC_FORMS}")


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (-0.5, "-0.5"), (math.nan, "nan")])
def test_a_refused_number_in_python_is_said_as_the_cli_says_it(value, shown, clip):
    """`ecoseg.measure(store, calibration=0)` said `calibration mm_per_px=0 must be positive`,
    the wording `--calibration 0` and a study's `calibration: 0` lost: now the argument as
    Python spells it, the reason and the accepted forms."""
    with pytest.raises(CalibrationError) as info:
        ecoseg.measure(clip.truth, calibration=value)
    text = str(info.value)
    assert text.startswith(f"calibration={shown}: mm_per_px="), text
    assert text.endswith(f"; give {SPEC_FORMS}") and "\n" not in text


# (CLI spec on the 96x64 clip, substrings of the message)
OUTSIDE = [
    ("scale-bar:0,0,5000,0,100", ["scale-bar end (5000, 0)", "96x64 px frame", "5000 px long"]),
    ("scale-bar:10,10,50,-20,100", ["scale-bar end (50, -20)", "96x64 px frame"]),
    ("lasers:10,10,10,30,50,70,50,90,20", ["laser spot (50, 70)", "96x64 px frame"]),
    # half a pixel past the last pixel's outer edge (95.5, 63.5) was accepted on the right
    # and bottom, while the same half pixel before the first one (-0.5) was refused
    ("scale-bar:-0.5,10,96,10,100", ["scale-bar end (96, 10)", "-0.5 to 95.5 in x"]),
    ("lasers:10,-0.5,10,64,32", ["laser spot (10, 64)", "63.5 in y"]),
]


@pytest.mark.parametrize(("spec", "culprits"), OUTSIDE, ids=[s for s, _ in OUTSIDE])
def test_calibration_points_outside_the_frame(spec, culprits, clip, tmp_path, cli):
    """A scale bar longer than the frame was accepted and its scale stored and used."""
    store = tmp_path / "m.zarr"
    shutil.copytree(clip.truth, store)
    before = MaskStore.open(store).calibration
    code, _, err = cli("measure", store, "-o", tmp_path / "tables", "--calibration", spec)
    assert_one_line_error(code, err, str(store), *culprits)
    assert not (tmp_path / "tables").exists()
    assert MaskStore.open(store).calibration == before
    with pytest.raises(CalibrationError):
        ecoseg.measure(store, calibration=spec)


def test_calibration_points_on_the_frame_edge_are_fine(clip, tmp_path):
    store = tmp_path / "m.zarr"
    shutil.copytree(clip.truth, store)
    # the outer edges of the first and last pixels (centres at 0 .. 95 and 0 .. 63)
    tables = ecoseg.measure(store, calibration="scale-bar:-0.5,-0.5,95.5,63.5,100")
    assert tables["regions"].attrs["calibration"]["method"] == "scale_bar"


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, 1e12, True, "half", None], ids=repr)
def test_bad_calibration_values_in_python(value, clip):
    with pytest.raises(CalibrationError) as info:
        ecoseg.measure(clip.truth, calibration={"mm_per_px": value})
    assert_names(info, "mm_per_px")
    with pytest.raises(CalibrationError):
        Calibration.from_scale(value)


@pytest.mark.parametrize("stored", [-2.0, 0, "big"], ids=repr)
def test_bad_calibration_stored_in_a_store(stored, clip, tmp_path, cli):
    """A store whose attributes were edited by hand names itself and the calibration."""
    store = tmp_path / "edited.zarr"
    shutil.copytree(clip.truth, store)
    meta = store / "zarr.json"
    doc = json.loads(meta.read_text())
    doc["attributes"][ATTRS_KEY]["calibration"] = {"mm_per_px": stored}
    meta.write_text(json.dumps(doc))
    with pytest.raises(CalibrationError) as info:
        MaskStore.open(store)
    assert_names(info, str(store), "mm_per_px")
    code, _, err = cli("measure", store, "-o", tmp_path / "tables")
    assert_one_line_error(code, err, str(store), "mm_per_px")


def test_implausible_stored_calibration_is_caught_by_measure(clip, tmp_path):
    store = tmp_path / "edited.zarr"
    shutil.copytree(clip.truth, store)
    with MaskStore.open(store, mode="a") as writer:
        writer.calibration = {"mm_per_px": 5e6}  # positive: the store accepts it
    with pytest.raises(CalibrationError) as info:
        ecoseg.measure(store)
    assert_names(info, "5e+06", "plausible range")


@pytest.mark.parametrize(
    "value", ["0", "-1", "lasers:1,1,1,1,4", "[1, 2]", "2.5 cm/px", "lazers:0,0,10,0,5"]
)
def test_bad_calibration_in_a_study_file(value, clip, tmp_path):
    from ecoseg.study import load_study

    shutil.copy(clip.video, tmp_path / "reef.mp4")
    study = tmp_path / "study.yaml"
    study.write_text(
        textwrap.dedent(
            f"""\
            output: out
            videos:
              - path: reef.mp4
                calibration: {value}
            """
        )
    )
    with pytest.raises((ConfigError, CalibrationError)) as info:
        load_study(study)
    assert isinstance(info.value, ConfigError)
    assert_names(info, str(study), "reef", "calibration")
    if value.startswith("lazers"):  # the closest kind, as --calibration says it
        assert_names(info, "unknown kind 'lazers' (did you mean 'lasers'?)")


@pytest.mark.parametrize("value", ["0", "-1", ".nan", "1.0e+9"])
def test_a_yaml_number_calibration_quotes_it_and_the_accepted_forms(value, clip, tmp_path, cli):
    """`calibration: 0` (a YAML number) was refused as `calibration: calibration
    mm_per_px=0 must be positive`, where `calibration: '0'` (text) quoted the spec and listed
    the accepted forms: now both say it alike, after the study file's key."""
    shutil.copy(clip.video, tmp_path / "reef.mp4")
    study = tmp_path / "study.yaml"
    study.write_text(f"output: out\nvideos:\n  - path: reef.mp4\n    calibration: {value}\n")
    shown = {"0": "0", "-1": "-1", ".nan": "nan", "1.0e+9": "1000000000.0"}[value]
    code, _, err = cli("study", study, "--check")
    assert_one_line_error(code, err, f"{study}: line 4: videos[0] (reef): calibration {shown}: ")
    assert err.rstrip().endswith(f"; give {SPEC_FORMS}"), err
    assert not (tmp_path / "out").exists()


def test_calibration_needs_a_writable_store_not_a_crash(clip, tmp_path):
    # the store's own refusal, with the way out (zarr's read-only error, wrapped as
    # "writing the store failed: ...", is a StoreError too)
    with pytest.raises(StoreError) as info:
        MaskStore.open(clip.truth).calibration = {"mm_per_px": 0.5}
    assert_names(info, f"{clip.truth}: store is open read-only (open it with mode='a')")


def test_report_of_a_store_that_is_not_the_studys_leaves_it_alone(clip, tmp_path, cli):
    """``ecoseg report STORE --study`` saved the study's calibration into STORE when STORE
    bore the name of a study video, even one made elsewhere (this copy of a synthetic truth,
    16.7 mm/px, became 0.5 mm/px with a warning). Refused in one line; the store is unchanged."""
    shutil.copy(clip.video, tmp_path / "reef.mp4")
    (tmp_path / "study.yaml").write_text(
        "output: out\ndefaults: {calibration: 0.5}\nvideos:\n  - {path: reef.mp4}\n"
    )
    store = tmp_path / "elsewhere" / "reef.zarr"
    shutil.copytree(clip.truth, store)
    before = {f: f.read_bytes() for f in store.rglob("*") if f.is_file()}
    page = tmp_path / "r.html"
    code, _, err = cli("report", store, "-o", page, "--study", tmp_path / "study.yaml")
    assert_one_line_error(code, err, f"report: {store}: not the study's store of video 'reef'")
    assert "(that is out/stores/reef.zarr), and its calibration 16.6" in err
    assert "mm/px (synthetic) is not the study's 0.5 mm/px (scale), which" in err
    assert {f: f.read_bytes() for f in store.rglob("*") if f.is_file()} == before
    assert not page.exists()
    # the way out runs as written (it lacked measure's -o and failed) and calibrates the store
    command = shlex.split(err.split("calibrate this one first (`")[1].split("`")[0])
    assert command[:2] == ["ecoseg", "measure"]
    code, _, err = cli(*command[1:])
    assert code == 0, err
    assert MaskStore.open(store).calibration["mm_per_px"] == 0.5
    code, _, err = cli("report", store, "-o", page, "--study", tmp_path / "study.yaml")
    assert code == 0, err


def test_a_new_calibration_names_an_unknown_method(store):
    from ecoseg.measure.calibration import Calibration

    # method="laser" was kept and stored without a word, as any text was
    with pytest.raises(CalibrationError) as exc:
        Calibration(0.5, method="laser")
    assert_names(exc, "calibration method 'laser' is unknown", "known: scale, scale_bar")
    with pytest.raises(CalibrationError) as exc:
        Calibration(0.5, method="scale_bars")
    assert_names(exc, "(did you mean 'scale_bar'?)")
    # a name cut short or in another case had no hint (difflib: too short, case-sensitive)
    for given, meant in [("laser", "laser_points"), ("lasers", "laser_points"), ("SCALE", "scale")]:
        with pytest.raises(CalibrationError) as exc:
            Calibration(0.5, method=given)
        assert_names(exc, f"method {given!r} is unknown (did you mean {meant!r}?); known:")
    # a store's calibration is read whatever its method says (another tool's, an old one's)
    with MaskStore.open(store, mode="a") as s:
        s.calibration = {"mm_per_px": 0.5, "method": "ruler"}
    assert str(Calibration.load(MaskStore.open(store))) == "0.5 mm/px (ruler)"
    assert "area_mm2" in ecoseg.measure(store)["regions"]
