"""Tests of ecoseg.measure.calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecoseg.errors import CalibrationError
from ecoseg.measure.calibration import (
    MAX_MM_PER_PX,
    MIN_MM_PER_PX,
    Calibration,
    as_calibration,
    bare_spec,
    parse_calibration,
)
from ecoseg.store import MaskStore


def test_from_scale_bar_and_lasers_by_hand():
    assert Calibration.from_scale_bar((10, 20), (13, 24), 10).mm_per_px == pytest.approx(2.0)
    cal = Calibration.from_laser_points([(0, 0), (0, 40), (10, 10), (60, 10)], 90)
    assert cal.mm_per_px == pytest.approx(90 / 45)  # mean pair distance 45 px
    assert cal.method == "laser_points" and cal.details["px"] == [40.0, 50.0]


@given(st.floats(MIN_MM_PER_PX, MAX_MM_PER_PX))
def test_dict_round_trip(v):
    cal = Calibration.from_scale(v)
    assert Calibration.from_dict(cal.to_dict()) == cal
    assert as_calibration(cal.to_dict()).mm_per_px == v


@pytest.mark.parametrize(
    "value, match",
    [
        (0, "must be positive"),
        (-0.5, "must be positive"),
        (float("nan"), "not finite"),
        (float("inf"), "not finite"),
        (1e-6, "plausible range"),
        (5e3, "plausible range"),
        ("abc", "not a number"),
        (None, "not a number"),
    ],
)
def test_invalid_scales(value, match):
    with pytest.raises(CalibrationError, match=match) as info:
        Calibration(value)
    assert "\n" not in str(info.value)


def test_invalid_constructors():
    with pytest.raises(CalibrationError, match="zero length"):
        Calibration.from_scale_bar((1, 1), (1, 1), 5)
    with pytest.raises(CalibrationError, match="length_mm"):
        Calibration.from_scale_bar((0, 0), (1, 1), -5)
    with pytest.raises(CalibrationError, match="pairs"):
        Calibration.from_laser_points([(0, 0), (1, 1), (2, 2)], 5)
    with pytest.raises(CalibrationError, match="non-finite"):
        Calibration.from_laser_points([(0, 0), (np.nan, 1)], 5)
    with pytest.raises(CalibrationError, match="mm_per_px"):
        Calibration.from_dict({"method": "scale"})


def test_parse_cli_forms():
    assert parse_calibration("0.5") == Calibration.from_scale(0.5)
    bar = parse_calibration("scale-bar:0,0,30,40,25")
    assert bar.mm_per_px == pytest.approx(0.5) and bar.method == "scale_bar"
    assert parse_calibration("scale_bar: 0, 0, 30, 40, 25").mm_per_px == pytest.approx(0.5)
    lasers = parse_calibration("lasers:0,0,100,0,0,10,0,110,50")
    assert lasers.mm_per_px == pytest.approx(0.5) and lasers.method == "laser_points"
    assert parse_calibration(2) == Calibration.from_scale(2)


@pytest.mark.parametrize("spec", ["2.5 mm/px", "2.5mm/px", " 2.5  MM / px ", "25e-1 mm/px"])
def test_a_number_with_the_unit_ecoseg_prints_is_the_number(spec):
    """``ecoseg synth`` prints ``calibration: 2.5 mm/px`` (the report, ``ecoseg info`` show
    ``N mm/px`` too): typed back it was refused, ``'2.5 mm/px' is not a number``."""
    cal = parse_calibration(spec)
    assert cal == parse_calibration("2.5")
    assert cal.to_dict() == {"mm_per_px": 2.5, "method": "scale"}
    assert bare_spec(spec) in ("2.5", "25e-1")  # what a study records and a report replays


@pytest.mark.parametrize("unit", ["cm/px", "px/mm", "mm", "um/px", "mm per px"])
def test_another_unit_is_refused_naming_it_and_the_one_accepted(unit):
    with pytest.raises(CalibrationError) as info:
        parse_calibration(f"0.4 {unit}")
    assert str(info.value) == (
        f"calibration '0.4 {unit}': unit {unit!r} is not accepted; give millimetres per pixel, "
        "a number alone or followed by 'mm/px'"
    )
    assert bare_spec(f"0.4 {unit}") == f"0.4 {unit}"  # left for parse_calibration to refuse


@pytest.mark.parametrize(
    "spec, match",
    [
        ("scale-bar:1,2,3", "5 numbers"),
        ("lasers:1,2,3,4", "4 numbers per pair"),
        ("lasers:0,0,1,x,5", "'x' is not a number"),
        ("ruler:1,2", "unknown kind"),
        ("-1", "must be positive"),
        ("0", "must be positive"),
    ],
)
def test_parse_errors_name_the_spec(spec, match):
    with pytest.raises(CalibrationError, match=match):
        parse_calibration(spec)


def test_save_and_load_with_a_store(tmp_path):
    path = tmp_path / "m.zarr"
    store = MaskStore.create(path, height=4, width=4)
    assert Calibration.load(store) is None
    cal = Calibration.from_scale_bar((0, 0), (0, 8), 2)
    cal.save(store)
    store.close()
    loaded = Calibration.load(MaskStore.open(path))
    assert loaded == cal and loaded.method == "scale_bar"
    assert math.isclose(loaded.details["length_mm"], 2)


def test_points_on_the_outer_edge_of_the_first_pixel_are_in_the_frame():
    # pixel centres are at 0, 1, ... (docs/tables.md), so the frame starts half a pixel
    # before 0: a line drawn in napari from the image's left edge to its right edge ends at
    # x = -0.5 and x = 95.5 on a 96 px wide frame, and was refused as outside it
    Calibration.from_scale_bar((-0.5, 10), (95.5, 10), 48).check_frame(96, 64)
    Calibration.from_laser_points([(10, -0.5), (10, 63.5)], 32).check_frame(96, 64)
    with pytest.raises(CalibrationError, match=r"scale-bar end \(-0.6, 10\) is outside"):
        Calibration.from_scale_bar((-0.6, 10), (95.5, 10), 48).check_frame(96, 64)


@pytest.mark.parametrize(
    ("p0", "p1", "outside"),
    [
        ((-0.5, 10), (95.5, 10), None),  # the outer edges of the first and last pixels
        ((10, -0.5), (10, 63.5), None),
        ((-0.5, 10), (95.75, 10), (95.75, 10)),  # a quarter pixel past the last one
        ((10, -0.5), (10, 63.75), (10, 63.75)),
        ((-0.5, 10), (96, 10), (96, 10)),  # x == width was accepted
        ((10, 0), (10, 64), (10, 64)),
        ((-0.75, 10), (95.5, 10), (-0.75, 10)),  # a quarter pixel before the first one
        ((10, -0.75), (10, 63.5), (10, -0.75)),
    ],
)
def test_the_frame_check_allows_the_same_half_pixel_on_each_side(p0, p1, outside):
    """Pixel centres are at 0 .. width - 1, so the frame's outer edges are -0.5 and
    width - 0.5; the check allowed up to ``width`` on the right and bottom (a point half a
    pixel past the last pixel's edge) but only -0.5 on the left and top."""
    for cal in (
        Calibration.from_scale_bar(p0, p1, 48),
        Calibration.from_laser_points([p0, p1], 48),
    ):
        if outside is None:
            cal.check_frame(96, 64)
            continue
        with pytest.raises(CalibrationError) as info:
            cal.check_frame(96, 64, "m.zarr")
        said = str(info.value)
        what = "scale-bar end" if cal.method == "scale_bar" else "laser spot"
        point = f"({outside[0]:g}, {outside[1]:g})"
        assert said.startswith(f"m.zarr: calibration {what} {point} is outside the 96x64 px frame")
        assert "from -0.5 to 95.5 in x and 63.5 in y" in said and "\n" not in said


def test_regions_refuses_calibration_points_outside_the_frame_as_measure_does(tmp_path):
    """`regions(store, calibration=...)` measured with a scale bar longer than the frame
    (coordinates of another video) that `measure` refuses."""
    from ecoseg.measure import measure
    from ecoseg.measure.regions import regions

    path = tmp_path / "m.zarr"
    store = MaskStore.create(path, height=4, width=6, objects=[{"id": 1}])
    store.append(np.ones((1, 4, 6), np.uint32), [0.0])
    store.close()
    bar = "scale-bar:0,0,500,0,50"
    with pytest.raises(CalibrationError, match=r"scale-bar end \(500, 0\) is outside") as a:
        regions(path, calibration=bar)
    with pytest.raises(CalibrationError) as b:
        measure(path, calibration=bar)
    assert str(a.value) == str(b.value)
    assert math.isclose(
        regions(path, calibration="scale-bar:0,0,5,0,1")["area_mm2"].iloc[0], 24 / 25
    )


def test_a_measure_that_fails_leaves_the_stores_calibration(tmp_path):
    """``measure(store, calibration=...)`` saved the new calibration into the store before
    it read the masks, so a store found damaged while measuring (a lost chunk) was left
    with a calibration of a measurement that never was; now it is saved once the tables are
    made, and a measure that fails leaves the store as it was."""
    from ecoseg.errors import StoreError
    from ecoseg.measure import measure

    path = tmp_path / "m.zarr"
    with MaskStore.create(path, height=4, width=6, objects=[{"id": 1}], chunk_frames=1) as s:
        s.append(np.ones((3, 4, 6), np.uint32), [0.0, 0.1, 0.2])
        Calibration.from_scale(0.25).save(s)
    (path / "labels" / "c" / "1" / "0" / "0").unlink()  # lost: the store is damaged
    for spec in ("0.5", "none"):
        with pytest.raises(StoreError, match=r"'labels' frames 1\.\.1 cannot be read"):
            measure(path, tmp_path / "tables", calibration=spec)
        assert MaskStore.open(path).calibration == {"mm_per_px": 0.25, "method": "scale"}
        assert not (tmp_path / "tables").exists()


def test_tables_that_cannot_be_written_leave_the_stores_calibration(tmp_path, monkeypatch):
    """``measure(store, out, calibration=...)`` saved the new calibration into the store once
    the tables were made but before they were written, so a write that failed (a full disk)
    left the store calibrated for tables that never were. Now it is saved once they are all
    written, before the first is put in place; a store that cannot take it (read-only) puts
    none in place, and leaves no ``tables.incomplete`` but an earlier run's."""
    import json

    import ecoseg.measure._write_tables as measure_pkg  # where the tables are written
    import ecoseg.measure.regions as regions_module
    from ecoseg.measure import INCOMPLETE, measure

    path = tmp_path / "m.zarr"
    with MaskStore.create(path, height=4, width=6, objects=[{"id": 1}]) as s:
        s.append(np.ones((3, 4, 6), np.uint32), [0.0, 0.1, 0.2])
        Calibration.from_scale(0.25).save(s)
    out = tmp_path / "tables"
    stored = {"mm_per_px": 0.25, "method": "scale"}

    def full(df, dest, fmt):
        raise OSError(28, "No space left on device")

    def read_only(store, calibration):
        raise OSError(13, "Permission denied")

    def left() -> list[str]:  # a folder made for the run and left empty is removed
        return sorted(p.name for p in out.iterdir()) if out.exists() else []

    with monkeypatch.context() as patch:
        patch.setattr(measure_pkg, "save_table", full)
        for spec in ("0.5", "none"):
            with pytest.raises(OSError, match="No space left"):
                measure(path, out, calibration=spec)
            assert MaskStore.open(path).calibration == stored
            assert left() == []
    with monkeypatch.context() as patch:
        patch.setattr(regions_module, "save_calibration", read_only)
        with pytest.raises(OSError, match="Permission denied"):
            measure(path, out, calibration="0.5")
        assert left() == []  # nothing in place, and no marker of a half set
        out.mkdir()
        (out / INCOMPLETE).write_text("an earlier run's half set\n")
        with pytest.raises(OSError, match="Permission denied"):
            measure(path, out, calibration="0.5")
        assert left() == [INCOMPLETE]  # still said
    assert MaskStore.open(path).calibration == stored
    measure(path, out, calibration="0.5")
    assert MaskStore.open(path).calibration == {"mm_per_px": 0.5, "method": "scale"}
    assert json.loads((out / "tables.json").read_text())["calibration"]["mm_per_px"] == 0.5
    assert not (out / INCOMPLETE).exists()
