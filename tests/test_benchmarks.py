"""The benchmarks' own arithmetic and the GPU run script (the benchmarks themselves are run by
hand: docs/performance.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import engine_vs_sam2 as evs  # noqa: E402


def _record(config, wall, **extra):
    return {"config": config, "wall": list(wall), "cpu": list(wall), **extra}


def test_a_failed_configuration_keeps_the_others_figures():
    records = [
        _record("official-bf16", [5.0, 1, 2, 2, 2, 2, 2]),
        _record("ecoseg-bf16", [1.0, 1, 1, 1, 1, 1, 1]),
        _record("ecoseg-bf16-compiled", [60.0], error="RuntimeError: no"),
    ]
    lines, comps = evs.summarise(records, warmup=2, goal_clock="wall")
    by = {line["config"]: line for line in lines}
    assert by["ecoseg-bf16-compiled"]["error"] == "RuntimeError: no"
    assert by["ecoseg-bf16"]["total_wall_s"] == 7.0
    (comp,) = comps  # the failed configuration is in no comparison
    assert comp["comparison"] == "ecoseg-bf16 vs official-bf16"
    assert comp["steady_speedup_wall"] == 2.0
    assert comp["end_to_end_speedup_wall"] == round(16 / 7, 3)
    assert comp["goal_ge_1_5"] and comp["goal_clock"] == "wall"


def test_object_scaling_compares_the_most_with_the_fewest_objects():
    times = {("tiny", 1024, "ecoseg-bf16", 0, 1): 0.02, ("tiny", 1024, "ecoseg-bf16", 0, 10): 0.05}
    times[("tiny", 1024, "official-bf16", 0, 1)] = 0.02  # its 10-object run is missing
    (line,) = evs.object_scaling(times, [1, 10], "wall")
    assert line["config"] == "ecoseg-bf16" and line["time_ratio"] == 2.5
    assert line["goal_le_2"] is False


def test_the_compiled_configuration_is_refused_on_a_cpu():
    with pytest.raises(SystemExit):
        evs.main(["--device", "cpu", "--configs", "ecoseg-bf16-compiled"])


def test_the_child_is_given_the_warmup_the_run_was_given(monkeypatch, capsys):
    """``--frames 5 --warmup 1`` passed the run's check, but its child, given no --warmup,
    refused 5 frames against its default of 3 (``{"error": 2}``, no figures)."""
    seen = []

    def fake_run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "")

    monkeypatch.setattr(evs.subprocess, "run", fake_run)
    evs.main(
        ["--device", "cpu", "--image-sizes", "256", "--objects", "1", "--frames", "5"]
        + ["--warmup", "1", "--configs", "ecoseg-fp32"]
    )
    (cmd,) = seen
    monkeypatch.setattr(evs, "run_pair", lambda a, folder, weights: [])
    evs.main(cmd[2:])  # the child's own argument check
    assert capsys.readouterr().out.strip().endswith("[]")


def test_ecoseg_decodes_in_its_own_step_without_prefetch(tmp_path, monkeypatch):
    """``--prefetch 0`` (the default) is to keep ecoseg's decoding inside its own timed step.
    ``ecoseg.engine.propagate`` takes ``**kwargs``, so the benchmark's signature check never
    passed ``prefetch``: the engine decoded in its prefetch thread (``prefetch=4``), and the
    image folder reader ahead in its thread pool, during the other configurations' steps."""
    import threading

    from ecoseg import sam2
    from ecoseg.io.folder import ImageFolderReader

    monkeypatch.setattr(evs, "W", 96)  # the click is at (60, 120)
    monkeypatch.setattr(evs, "H", 128)
    monkeypatch.setattr("os.cpu_count", lambda: 4)  # the folder reader's pool on any machine
    evs.make_clip(tmp_path, 3)
    load = ImageFolderReader._load
    threads = []

    def spy(self, index):
        threads.append(threading.current_thread())
        return load(self, index)

    monkeypatch.setattr(ImageFolderReader, "_load", spy)
    net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
    steps = evs.ecoseg_steps(net, str(tmp_path), 1, "cpu", bf16=False, fill=0, prefetch=0)
    assert [next(steps) for _ in range(3)] == [0, 1, 2]
    assert threads and set(threads) == {threading.current_thread()}


def test_the_gpu_script_parses_and_lists_every_step_it_runs():
    script = BENCH / "gpu_figures.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    listed = set(re.findall(r"^#   (\w+) +\d+ ", text, re.M))
    arms = set(re.findall(r"^  (\w+)\) run ", text, re.M))
    default = set(re.search(r"steps=\$\{\*:-([^}]*)\}", text).group(1).split())
    assert listed == arms == default and "memory" in arms


def test_objects_figures_leave_out_the_start_up_frame():
    import objects_bench

    times = [(5.0, 4.0), (1.0, 2.0), (3.0, 2.0)]  # frame 0 (start-up), then two steady frames
    line = objects_bench.figures("ours", 16, times, 1, [(9.0, 9.0), (1.0, 1.0)])
    assert line["startup_s"] == 5.0 and line["s_per_frame"] == 2.0
    assert line["ratio_vs_1_objects"] == 2.0 and line["cpu_ratio_vs_1_objects"] == 2.0


def test_the_chunk_check_reads_alternate_which_runs_first(monkeypatch):
    """The read without the check always ran first, the one with it second, on the page
    cache and decoded chunks the first had warmed: now ABBA, for both figures."""
    import types

    import chunk_check_bench as ccb

    ran = []
    store = types.SimpleNamespace(n_frames=8, chunk_frames=4)
    monkeypatch.setattr(ccb, "MaskStore", types.SimpleNamespace(open=lambda path: store))
    monkeypatch.setattr(ccb, "_pass", lambda store, step, check: ran.append(check) or 1.0)
    monkeypatch.setattr(ccb, "_view_pass", lambda path, check: ran.append(check) or 1.0)
    monkeypatch.setattr(ccb, "_probe_pass", lambda store, step: 0.5)
    order = [False, True, True, False, False, True]
    assert ccb.read_chunk_check(Path("s"), 4, 3)["overhead_best"] == 0.0
    assert ran == [True, *order]  # the warm-up pass, then three rounds
    ran.clear()
    assert ccb.view_chunk_check(Path("s"), 3)["overhead_best"] == 0.0
    assert ran == [True, *order]


def test_objects_bench_reads_the_arguments_it_is_given(capsys):
    """Its ``main()`` took no arguments and parsed the test runner's own command line."""
    import objects_bench

    with pytest.raises(SystemExit) as stop:
        objects_bench.main(["--flops", "--device", "cuda"])  # refused before any work
    assert stop.value.code == 2
    assert "--flops counts on the CPU only" in capsys.readouterr().err


def test_every_benchmark_main_takes_an_argument_list():
    """As the tests call them: ``main(["--frames", "2", ...])``; seven took none."""
    import ast

    for script in sorted(BENCH.glob("*.py")):
        tree = ast.parse(script.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "main":
                assert [a.arg for a in node.args.args] == ["argv"], script.name


def test_the_long_store_is_finished_and_objects_leave_and_come_back(tmp_path):
    import long_store_bench

    from ecoseg.store import MaskStore

    path = tmp_path / "long.zarr"
    long_store_bench.make_store(path, 1830, size=(32, 18), objects=3)  # past the first minute
    store = MaskStore.open(path)
    assert store.complete and store.n_frames == 1830 and len(store.object_ids) == 3
    present = store.read_scores() > 0
    # object 3 leaves for minute 0 ((0 + 3) % 4 == 3) and object 2 for minute 1
    assert not present[:1800, 2].any() and present[1800:, 2].any()
    assert present[:1800, 1].any() and not present[1800:, 1].any()
    assert long_store_bench._BAR.search(
        b"reading masks:  40%|####  | 4/10 [00:01<00:01, 3.9frame/s]"
    )
    assert not long_store_bench._BAR.search(b"frames: 300 (complete)")


def test_the_long_store_bench_reads_a_store_folder_given_relative(tmp_path, monkeypatch, capsys):
    """``--store DIR`` (relative, as docs/scale.md shows it): every command ran in its own
    folder and said ``DIR/long-N.zarr: no such store`` (rc 2 in each line)."""
    import json

    import long_store_bench

    monkeypatch.chdir(tmp_path)
    long_store_bench.main(
        ["--frames", "2", "--size", "32x18", "--objects", "1"]
        + ["--store", "stores", "--commands", "info"]
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    (info,) = [x for x in lines if x["command"] == "info"]
    assert info["rc"] == 0, info


def test_the_soak_refuses_a_sample_interval_that_measures_no_growth(tmp_path, capsys):
    """``--frames 300`` with the default ``--every 1000`` sampled frame 300 only and reported
    a growth of 0.0 MiB from frame 300 to frame 300 as ``flat``."""
    import soak

    with pytest.raises(SystemExit) as stop:
        soak.main(["--frames", "300", "--keep", str(tmp_path / "kept")])
    assert stop.value.code == 2 and not (tmp_path / "kept").exists()
    assert "--every 1000 takes no sample between frame 30" in capsys.readouterr().err


def test_the_soak_makes_a_kept_clip_of_other_options_again(tmp_path, monkeypatch, capsys):
    """``--keep DIR`` used the clip a run with other ``--frames`` or ``--size`` had left in
    DIR, and soaked that clip under the figures of the options given."""
    import av
    import soak

    import ecoseg

    class Stop(Exception):
        pass

    def stop(video, **kwargs):
        raise Stop  # the clip is what this test is about

    monkeypatch.setattr(ecoseg, "segment", stop)
    kept = tmp_path / "kept"
    kept.mkdir()
    soak.write_clip(kept / "soak.mp4", 12, 32, 24)
    for frames, size, said in [
        ("12", "32x24", ""),  # as asked for: used again
        ("20", "32x24", "has 12 frames of 32x24, not 20 of 32x24: made again"),
        ("20", "48x32", "has 20 frames of 32x24, not 20 of 48x32: made again"),
    ]:
        args = ["--frames", frames, "--size", size, "--every", "4", "--keep", str(kept)]
        with pytest.raises(Stop):
            soak.main(args)
        err = capsys.readouterr().err
        assert (said in err) if said else err == "", err
        with av.open(str(kept / "soak.mp4")) as clip:
            stream = clip.streams.video[0]
            made = f"{stream.frames} {stream.codec_context.width}x{stream.codec_context.height}"
        assert made == f"{frames} {size}"
    (kept / "soak.mp4").write_bytes(b"not a video")
    assert "cannot be read" in soak.clip_differs(kept / "soak.mp4", 20, 48, 32)


def test_memory_trace_growth_names_a_missing_or_empty_trace(tmp_path, capsys):
    """A trace file no child wrote (its run had fewer than 50 frames, or ran elsewhere) was
    a FileNotFoundError traceback, or no line at all for an empty one."""
    import memory_bench

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    for trace in (tmp_path / "trace.jsonl", empty):
        with pytest.raises(SystemExit):
            memory_bench.main(["--trace-growth", str(trace)])
        assert f"{trace}: no trace lines" in capsys.readouterr().err


def test_memory_child_is_listed_and_names_an_unknown_engine(capsys):
    """docs/performance.md runs ``memory_bench.py --child sam3-ecoseg 3000``, which --help did
    not list; an engine name it does not know was a KeyError traceback."""
    import memory_bench

    with pytest.raises(SystemExit):
        memory_bench.main(["--help"])
    assert "--child ENGINE N" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        memory_bench.main(["--child", "sam3", "300"])
    assert "--child sam3: no such engine; one of ecoseg, official, sam3-ecoseg" in (
        capsys.readouterr().err
    )


def test_track_throughput_takes_the_best_cpu_time_of_its_own(tmp_path, monkeypatch):
    """The best of ``--repeats`` was one (wall, CPU) pair, the run of least wall time, so
    ``cpu_ratio`` took the CPU time of that run, not the least CPU time."""
    import contextlib
    import types

    import track_bench

    clock = iter([(0, 0), (1, 10), (0, 0), (4, 8), (0, 0), (2, 5), (0, 0), (3, 20)])
    monkeypatch.setattr(track_bench, "_clock", lambda: next(clock))
    monkeypatch.setattr(track_bench, "synth", lambda *a, **k: types.SimpleNamespace(video="v"))
    monkeypatch.setattr(track_bench, "open_video", lambda v: contextlib.nullcontext([0, 0]))
    monkeypatch.setattr(track_bench, "track", iter)
    line = track_bench.throughput(tmp_path, frames=2, repeats=2)
    assert line["ratio"] == round(1 / 3, 3)  # decode's best wall 1 s, tracking's 3 s
    assert line["cpu_ratio"] == round(5 / 8, 3)  # decode's best CPU 5 s, tracking's 8 s
