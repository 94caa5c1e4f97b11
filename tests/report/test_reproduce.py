"""``ecoseg.report.reproduce``: the commands a report shows to make its stores again."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from ecoseg.provenance import Provenance
from ecoseg.report.reproduce import reproduce


def _video(**provenance):
    prov = Provenance.from_dict({"engine": "sam2", "parameters": {"device": "cpu"}, **provenance})
    return SimpleNamespace(name="v", provenance=prov, video_shown="v.mp4", store_shown="v.zarr")


@pytest.mark.parametrize(
    "provenance, flags",
    [
        ({"prompts": {"objects": [{"id": 1}]}}, "--model sam2.1-tiny --prompts PROMPTS.json"),
        (
            {"prompts": {"objects": [{"id": 1}]}, "backward": False},
            "--model sam2.1-tiny --prompts PROMPTS.json --forward-only",
        ),
        ({"auto": True}, "--model sam2.1-tiny --auto"),
        (
            {"parameters": {"device": "cpu", "fast": True}, "model": {"image_size": 512}},
            "--model sam2.1-tiny --image-size 512 --prompts PROMPTS.json --fast",
        ),
    ],
)
def test_sam2_store_commands_carry_the_settings_that_shape_the_masks(provenance, flags):
    steps = reproduce([_video(**provenance)], None, Path("report.html"), {})["steps"]
    assert steps == [
        f"ecoseg segment v.mp4 -o v.zarr --engine sam2 {flags}",
        "ecoseg report v.zarr -o report.html",
    ]
