"""The per-video summary rows (:mod:`ecoseg.report._summary`)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ecoseg.measure.calibration import scale_text
from ecoseg.provenance import Provenance
from ecoseg.report._summary import summary_rows


def _video(mm_per_px):
    return SimpleNamespace(
        name="a", site=None, transect=None, date=None, depth_m=None, duration_s=1.0,
        complete=True, n_frames=10, width=60, height=40, mm_per_px=mm_per_px,
        times=np.arange(10) / 10, photos=None, provenance=Provenance(),
    )  # fmt: skip


@pytest.mark.parametrize("mm_per_px", [50 / 3, 0.123456789, 0.5, 25.0])
def test_summary_mm_per_px_is_the_stored_calibration_every_digit(mm_per_px):
    # old code: significant_digits, 4 digits ('16.67' for 50/3) while the calibration
    # section (scale_text) printed 16.666666666666668: two numbers for one calibration
    (row,) = summary_rows([_video(mm_per_px)], {})
    assert f"{row['mm_per_px']} mm/px" == scale_text(mm_per_px)
    assert float(row["mm_per_px"]) == mm_per_px


def test_summary_mm_per_px_of_an_uncalibrated_video_is_none():
    (row,) = summary_rows([_video(None)], {})
    assert row["mm_per_px"] == "none"
