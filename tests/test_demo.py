"""``ecoseg demo``, the README's first command: what it prints is what it stored, and a second
run makes the same numbers."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from ecoseg.demo import run_demo
from ecoseg.sample import sample
from ecoseg.species.truth import truth_classes
from ecoseg.store import MaskStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    return out, run_demo(out, progress=False)


def _maxn_rows(summary: str) -> dict[str, tuple[int, int]]:
    """class -> (truth, tracked) from the summary's MaxN table."""
    rows = re.findall(r"^  (\w[\w ]*?)\s+(\d+)\s+(\d+)$", summary, re.M)
    return {cls: (int(t), int(p)) for cls, t, p in rows}


def test_the_summary_says_what_the_tables_and_metrics_hold(demo):
    out, summary = demo
    tracks = pd.read_parquet(out / "tables" / "tracks.parquet")
    maxn = pd.read_parquet(out / "tables" / "maxn.parquet")
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"objects tracked: {len(tracks)} (truth: {metrics['truth_objects']})" in summary
    rows = _maxn_rows(summary)
    tracked = dict(zip(maxn["class"], maxn["maxn"]))
    for cls, (truth, got) in rows.items():
        if cls == "all animals":
            assert (truth, got) == (metrics["counts"]["all"]["maxn_truth"],
                                    metrics["counts"]["all"]["maxn_pred"])  # fmt: skip
        else:
            assert got == tracked.get(cls, 0), cls
            assert truth == metrics["counts"].get(cls, {}).get("maxn_truth", 0), cls
    assert set(tracked) - {"unknown"} <= set(rows)  # every class counted is shown
    assert f"J&F   {metrics['jf']['mean']:.3f}" in summary
    assert f"HOTA  {metrics['hota']['hota']:.3f}" in summary
    assert json.loads((out / "demo.json").read_text())["summary"] == summary


def test_tracks_are_named_and_a_track_matching_no_animal_is_said(demo):
    out, summary = demo
    named = truth_classes(out / "masks.zarr", sample().truth)
    with MaskStore.open(out / "masks.zarr") as store:
        cls = {int(o["id"]): str(o["class"]) for o in store.objects}
        sources = {str(o.get("class_source")) for o in store.objects}
    assert sources == {"classified"}
    matched = [i for i, c in named.items() if c is not None]
    right = sum(cls[i] == named[i] for i in matched)
    assert f"species right on {right} of {len(matched)} tracks" in summary
    unmatched = sorted(i for i, c in named.items() if c is None)
    if unmatched:
        line = next(s for s in summary.splitlines() if "matching no single truth" in s)
        # by their ids: "7 named surgeonfish" read as a count of seven fish
        assert line.endswith(", ".join(f"track {i} named {cls[i]}" for i in unmatched))
    else:
        assert "matching no single truth" not in summary


def test_the_report_names_the_species(demo):
    out, _ = demo
    html = (out / "report.html").read_text()
    for cls in pd.read_parquet(out / "tables" / "maxn.parquet")["class"].unique():
        assert str(cls) in html


def test_the_reproduce_steps_of_a_demo_run_on_any_machine(demo, tmp_path, monkeypatch):
    """The steps named the bundled sample clip and its truth by their paths inside this
    machine's installation; they name them ``ecoseg:sample/video.mp4`` and
    ``ecoseg:sample/truth.zarr``, and run as shown, in an empty folder, to the demo's store."""
    from ecoseg.cli import main
    from ecoseg.report.read import read_video
    from ecoseg.report.reproduce import reproduce

    out, _ = demo
    monkeypatch.chdir(out.parent)  # the page's stores as a user in that folder names them
    store = f"{out.name}/masks.zarr"
    info = read_video("sample", store, store)
    info.truth = str(sample().truth)  # as the demo's report() is given it
    made = reproduce([info], None, Path("report.html"), "ecoseg demo")
    steps = [s for s in made["steps"] if not s.startswith("#")]
    assert steps[0].startswith(f"ecoseg segment ecoseg:sample/video.mp4 -o {store} ")
    assert " --model ecoseg:species_model.json " in steps[1]
    assert " --truth ecoseg:sample/truth.zarr " in steps[-1]
    installed = str(sample().video.parents[1])
    assert not any(installed in s for s in made["steps"])
    args = [shlex.split(s) for s in steps]
    assert not any(Path(a).is_absolute() for step in args for a in step), steps
    (tmp_path / "replay").mkdir()
    monkeypatch.chdir(tmp_path / "replay")  # another folder, as on another machine
    for file in made["files"]:
        Path(file.name).write_text(file.text)
    for step in args:
        assert main(step[1:]) == 0, step
    with MaskStore.open(store) as again, MaskStore.open(out / "masks.zarr") as first:
        assert again.provenance["video"]["path"] == "ecoseg:sample/video.mp4"
        assert again.objects == first.objects  # the same tracks, named alike


def test_a_second_run_makes_the_same_numbers(demo):
    out, summary = demo
    before = {n: pd.read_parquet(out / "tables" / f"{n}.parquet") for n in ("tracks", "maxn")}
    metrics = (out / "metrics.json").read_text()
    again = run_demo(out, overwrite=True, progress=False)
    assert again == summary
    assert (out / "metrics.json").read_text() == metrics
    for name, table in before.items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / "tables" / f"{name}.parquet"), table)


def test_a_demo_folder_left_by_ctrl_c_is_replaced_with_overwrite(tmp_path, monkeypatch):
    """A demo stopped with Ctrl-C left ``masks.zarr`` and no ``demo.json``; running it again
    was refused with and without --overwrite ("not an ecoseg demo folder"), so the user had
    to delete the demo's own folder by hand."""
    import ecoseg.engine
    from ecoseg.errors import ConfigError

    def interrupted(video, out, **kwargs):
        Path(out).mkdir()
        raise KeyboardInterrupt

    monkeypatch.setattr(ecoseg.engine, "segment", interrupted)
    out = tmp_path / "demo"
    with pytest.raises(KeyboardInterrupt):
        run_demo(out, progress=False)
    with pytest.raises(ConfigError, match="already exists; pass overwrite"):
        run_demo(out, progress=False)
    with pytest.raises(KeyboardInterrupt):  # replaced: the demo ran again
        run_demo(out, overwrite=True, progress=False)
