import json
import subprocess
import sys

import pytest

import ecoseg
from ecoseg._cli import cli_words
from ecoseg.cli import build_parser, main
from ecoseg.errors import ConfigError

COMMANDS = ["demo", "synth", "segment", "measure", "evaluate", "info", "weights"]


def test_every_command_has_help(capsys):
    for name in COMMANDS:
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
        assert "usage: ecoseg " + name in capsys.readouterr().out


def test_segment_help_names_every_option_that_picks_sam2(capsys):
    """`segment --help` says which options make sam2 the default engine: each of them does."""
    from ecoseg.engine import choose_engine

    with pytest.raises(SystemExit):
        main(["segment", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    sentence = text.split("Default engine: sam2 with ")[1].split(", else classical")[0]
    for option, kwargs in [
        ("--prompts", {"prompts": True, "auto": False}),
        ("--prompts-from", {"prompts": True, "auto": False}),
        ("--auto", {"prompts": False, "auto": True}),
    ]:
        assert option in sentence.replace(",", " ").split(), (option, sentence)
        assert choose_engine(None, **kwargs) == "sam2"
    assert choose_engine(None, prompts=False, auto=False) == "classical"


def test_top_level_help_lists_commands():
    text = build_parser().format_help()
    for name in COMMANDS:
        assert name in text


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("ecoseg ")


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "ecoseg", *args], capture_output=True, text=True, cwd=cwd
    )


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ecoseg: error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.skipif(sys.platform == "win32", reason="a pipe without a reader: POSIX")
def test_a_reader_gone_ends_the_command_quietly(tmp_path):
    """``ecoseg info --json ... | head -1``: the output's reader went away. It said ``ecoseg:
    error: [Errno 32] Broken pipe`` (status 1), or Python's ``Exception ignored ...
    BrokenPipeError`` at exit (status 120); now nothing, and the status of a command ended
    by SIGPIPE (141)."""
    import os

    read, write = os.pipe()
    os.close(read)  # the reader is gone before a word is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ecoseg", "weights", "list"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, ECOSEG_WEIGHTS_DIR=str(tmp_path)),
        )
    finally:
        os.close(write)
    assert proc.stderr == ""
    assert proc.returncode == 141


@pytest.mark.skipif(sys.platform == "win32", reason="a pipe without a reader: POSIX")
def test_a_broken_pipe_of_something_else_is_still_an_error():
    """Only stdout's reader gone is said with silence: a broken pipe of something else (a
    cluster's connection) while stdout is a pipe that is read is an error line."""
    code = (
        "import sys\n"
        "from ecoseg import cli\n"
        "def broken(args):\n"
        "    raise BrokenPipeError(32, 'Broken pipe')\n"
        "parser = cli.build_parser\n"
        "def build():\n"
        "    p = parser()\n"
        "    p._subparsers._group_actions[0].choices['info'].set_defaults(func=broken)\n"
        "    return p\n"
        "cli.build_parser = build\n"
        "sys.exit(cli.main(['info', 'x.zarr']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (proc.returncode, proc.stderr) == (1, "ecoseg: error: [Errno 32] Broken pipe\n")


def test_missing_video_is_one_line(tmp_path):
    missing = tmp_path / "nope.mp4"
    proc = run("segment", str(missing), "-o", str(tmp_path / "out.zarr"))
    assert_one_line_error(proc, "nope.mp4")
    assert not (tmp_path / "out.zarr").exists()


def test_bad_prompt_file_is_one_line(tmp_path):
    from ecoseg.synth import synth

    clip = synth(tmp_path / "clip", frames=3, size=(64, 48))
    prompts = tmp_path / "p.json"
    prompts.write_text(
        json.dumps({"objects": [{"id": 1, "prompts": [{"frame": 9, "points": [[1, 1]]}]}]})
    )
    proc = run(
        "segment", str(clip.video), "-o", str(tmp_path / "o.zarr"), "--prompts", str(prompts)
    )
    assert_one_line_error(proc, "object 1, frame 9", "out of range")
    assert not (tmp_path / "o.zarr").exists()  # validated before any work


def test_forward_only(tmp_path):
    import ecoseg
    from ecoseg.synth import synth

    clip = synth(tmp_path / "clip", frames=4, size=(64, 48))
    proc = run("segment", str(clip.video), "-o", str(tmp_path / "c.zarr"), "--forward-only")
    assert_one_line_error(proc, "--forward-only", "classical")
    assert not (tmp_path / "c.zarr").exists()

    prompts = tmp_path / "p.json"
    prompts.write_text(
        json.dumps({"objects": [{"id": 1, "prompts": [{"frame": 2, "points": [[9, 9]]}]}]})
    )
    sam2_args = ["--prompts", str(prompts), "--random-weights", "--image-size", "64"]
    for extra, backward in (([], True), (["--forward-only"], False)):
        out = tmp_path / f"{backward}.zarr"
        proc = run("segment", str(clip.video), "-o", str(out), *sam2_args, *extra)
        assert proc.returncode == 0, proc.stderr
        assert ecoseg.open_masks(out).attrs["provenance"]["backward"] is backward


def test_debug_shows_traceback(tmp_path):
    proc = run("--debug", "segment", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o.zarr"))
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr


def test_debug_after_the_command_says_where_it_goes(tmp_path, capsys):
    """``ecoseg segment ... --debug`` said only "unrecognized arguments: --debug"."""
    with pytest.raises(SystemExit) as exit_:
        main(["segment", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o.zarr"), "--debug"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--debug goes before the command: `ecoseg --debug segment ...`" in err


def test_the_sam2_engine_without_prompts_names_every_way_to_give_them(tmp_path, capsys):
    """It said "needs prompts (--prompts FILE.json)", leaving out --prompts-from and --auto."""
    import ecoseg

    clip = ecoseg.synth(tmp_path / "clip", frames=3, size=(64, 48), seed=1)
    out = tmp_path / "m.zarr"
    assert main(["segment", str(clip.video), "-o", str(out), "--engine", "sam2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--prompts FILE.json, or --prompts-from FILE --format F) or --auto" in err
    assert not out.exists()


def test_synth_then_read_back(tmp_path):
    out = tmp_path / "clip"
    proc = run("synth", "-o", str(out), "--frames", "6", "--size", "96x64", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    import ecoseg

    with ecoseg.open_video(out / "video.mp4") as video:
        assert len(video) == 6
        assert (video.width, video.height) == (96, 64)
    ds = ecoseg.open_masks(out / "truth.zarr")
    assert ds.sizes["t"] == 6
    # a second run refuses to overwrite
    proc = run("synth", "-o", str(out), "--frames", "6", "--size", "96x64")
    assert_one_line_error(proc, str(out))


def test_bad_size_is_usage_error():
    proc = run("synth", "-o", "x", "--size", "big")
    assert_one_line_error(proc, "synth: ", "WIDTHxHEIGHT", "`ecoseg synth --help`")


@pytest.mark.parametrize(
    "args, needle",
    [
        (("segment", "v.mp4", "-o", "m.zarr", "--device", "tpu"), "unknown device 'tpu'"),
        (("segment", "v.mp4"), "required: -o/--out"),
        (("export", "m.zarr", "-o", "x", "--format", "yolo"), "invalid choice: 'yolo'"),
        (("nope",), "invalid choice: 'nope' (choose from"),
        # a near miss is named first (argparse gave only the whole list)
        (("mesure", "m.zarr"), "invalid choice: 'mesure' (did you mean 'measure'?) (choose"),
        (
            ("segment", "v.mp4", "-o", "m.zarr", "--engine", "clasical"),
            "--engine: invalid choice: 'clasical' (did you mean 'classical'?)",
        ),
        (("classify", "m.zarr", "--model", "x.json", "--queue", "-5"), "--queue must be 0 or more"),
        (
            ("segment", "v.mp4", "-o", "m.zarr", "--auto", "--checkpoint", "w.pt"),
            "w.pt: checkpoint file not found",
        ),
        (  # network options on a motion-tracker run: refused as such, not for the file
            ("segment", "v.mp4", "-o", "m.zarr", "--engine", "classical", "--checkpoint", "w.pt"),
            "--checkpoint is for the sam2 engine's network; the classical motion tracker has none",
        ),
        (
            ("segment", "v.mp4", "-o", "m.zarr", "--checkpoint", "w.pt", "--random-weights"),
            "--checkpoint, --random-weights are for the sam2 engine's network, but without",
        ),
    ],
)
def test_option_mistakes_are_one_line_errors(args, needle):
    assert_one_line_error(run(*args), needle)


def test_segment_with_a_sam3_model_is_concept_tracking_without_concepts_flag(tmp_path, capsys):
    """A prompt file may carry all the concepts: --model sam3 on a video routes to concept
    tracking, so its flags (--detect-every) are checked there, not refused."""
    import ecoseg

    clip = ecoseg.synth(tmp_path / "c", frames=2, size=(64, 48))
    code = main(["segment", str(clip.video), "-o", str(tmp_path / "m.zarr"),
                 "--model", "sam3-reduced", "--detect-every", "0"])  # fmt: skip
    assert code == 2
    assert "--detect-every must be a positive integer, got 0" in capsys.readouterr().err
    code = main(["segment", str(clip.video), "-o", str(tmp_path / "m.zarr"), "--detect-every", "2"])
    assert code == 2 and "--detect-every needs --concepts" in capsys.readouterr().err


def test_evaluate_shows_its_progress_on_stderr_and_keeps_stdout_json(tmp_path, capsys):
    """`ecoseg evaluate` ran without a progress bar (it never passed progress=True): minutes
    of silence on an hour of video, where segment, measure, export and import show theirs."""
    import ecoseg

    clip = ecoseg.synth(tmp_path / "clip", frames=4, size=(64, 48))
    assert main(["evaluate", str(clip.truth), "--truth", str(clip.truth)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["frames"] == 4
    assert "evaluate (overlaps)" in err and "evaluate (boundaries)" in err


def test_report_shows_its_progress_on_stderr(tmp_path, capsys):
    """`ecoseg report` measured and evaluated its stores without a progress bar: on an hour
    of video, minutes of silence before the page."""
    import ecoseg

    clip = ecoseg.synth(tmp_path / "clip", frames=4, size=(64, 48))
    page = tmp_path / "report.html"
    assert main(["report", str(clip.truth), "--truth", str(clip.truth), "-o", str(page)]) == 0
    err = capsys.readouterr().err
    assert page.exists()
    assert "measure" in err and "evaluate (overlaps)" in err


def test_study_check_refuses_an_output_that_is_a_file(tmp_path, capsys):
    """Old: '--check' said ok, and only the run refused the output."""
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "out").write_text("notes")
    study = tmp_path / "study.yaml"
    study.write_text("name: demo\noutput: out\nvideos:\n  - path: a.mp4\n")
    assert main(["study", str(study), "--check"]) != 0
    err = capsys.readouterr().err
    assert "out: exists and is not a folder" in err and len(err.strip().splitlines()) == 1


def test_evaluate_out_inside_a_png_truth_folder_names_it_a_png_folder(tmp_path, capsys):
    """Old: the DAVIS folder of PNG masks was called 'the mask store'."""
    from ecoseg.store import MaskStore

    MaskStore.create(tmp_path / "p.zarr", height=2, width=2).close()  # there: said first
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "00000.png").write_bytes(b"")
    out = truth / "m.json"
    assert main(["evaluate", str(tmp_path / "p.zarr"), "--truth", str(truth), "-o", str(out)])
    err = capsys.readouterr().err
    assert "m.json: is inside the folder of PNG masks" in err and "mask store" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    "value, message",
    [
        ("settings", "settings: is a folder, not a settings file"),
        ("nowhere.json", "nowhere.json: settings file not found"),
    ],
)
def test_engine_params_names_a_folder_and_a_missing_file_with_what_it_takes(
    tmp_path, monkeypatch, value, message
):
    from ecoseg._cli import engine_params
    from ecoseg.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings").mkdir()
    (tmp_path / "min.json").write_text('{"min_area": 30}')
    assert engine_params("min.json") == {"min_area": 30}
    with pytest.raises(ConfigError) as exc:
        engine_params(value, "--discovery")
    assert str(exc.value) == f"{message} (--discovery takes a JSON object or a .json file)"


def test_concepts_given_twice_add_up():
    """``--concepts A --concepts B`` tracks both (argparse kept only the last list)."""
    args = build_parser().parse_args(
        ["segment", "v.mp4", "-o", "v.zarr", "--concepts", "parrotfish"]
        + ["--concepts", "sea urchin", "wrasse"]
    )
    assert args.concepts == ["parrotfish", "sea urchin", "wrasse"]


def _options(parser, name="ecoseg"):
    """(command, action) of every option of every (sub)command."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield from _options(subparser, f"{name} {sub}")
        elif action.option_strings:
            yield name, action


def test_fps_help_says_what_it_refuses_in_the_words_of_the_refusal():
    """``--fps`` help said it was refused for a video file only; a single image is refused too
    (it has no time axis): each command's help says both, as the refusal words them."""
    from ecoseg.io._common import not_a_folder

    helps = {c: a.help for c, a in _options(build_parser()) if "--fps" in a.option_strings}
    del helps["ecoseg synth"]  # the rate of the clip it makes
    assert len(helps) == 3  # segment, batch, import
    for help_text in helps.values():
        text = " ".join(help_text.split())
        assert not_a_folder("dive.mp4") in text and not_a_folder("photo.jpg") in text, text


def test_every_option_with_a_default_says_it_in_its_help():
    """One spelling of defaults in --help: 'default X' with X the value used (some said
    '(0.5)', '(640x360)', '(default)', or nothing: --camera, --device, --detect-every)."""
    import argparse

    missing = []
    for command, action in _options(build_parser()):
        value = action.default
        if value is None or value is False or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        shown = str(value)
        if isinstance(value, tuple):  # --size
            shown = "x".join(map(str, value))
        elif isinstance(value, float):
            shown = f"{value:g}"
        if f"default {shown}" not in " ".join(action.help.split()):
            missing.append(f"{command} {action.option_strings[-1]}: {action.help!r}")
    assert not missing, missing


def test_help_says_default_x_never_default_colon_x():
    """--help gives each default as 'default X', as the README says; ten options and
    arguments said 'default: X' ('--image-size ... (default: the model's)', 'weights verify
    NAME ... (default: all)')."""
    import argparse

    def helps(parser, name="ecoseg"):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    yield from helps(subparser, f"{name} {sub}")
            elif action.help and action.help != argparse.SUPPRESS:
                yield f"{name} {(action.option_strings or [action.dest])[-1]}", action.help

    said = [f"{where}: {text!r}" for where, text in helps(build_parser()) if "default:" in text]
    assert not said, said


def test_every_output_option_is_dash_o_out():
    """Every command that writes one output takes it as -o/--out (study said -o/--output,
    demo had no -o); --output stays a hidden alias for study's old scripts."""
    parser = build_parser()
    for args in (["study", "s.yaml"], ["demo"]):
        assert parser.parse_args([*args, "-o", "d"]).out == "d"
        assert parser.parse_args([*args, "--out", "d"]).out == "d"
    assert parser.parse_args(["study", "s.yaml", "--output", "d"]).out == "d"
    for command, action in _options(parser):
        if "-o" in action.option_strings:
            assert action.option_strings == ["-o", "--out"], command
    help_text = parser._subparsers._group_actions[0].choices["study"].format_help()
    assert "-o OUT, --out OUT" in help_text and "--output" not in help_text


def test_prompt_frames_given_twice_add_up(monkeypatch):
    """``--prompt-frames 0,10 --prompt-frames 20`` prompts on all three frames (argparse kept
    the last list: frame 20 alone, silently)."""
    import ecoseg.formats
    from ecoseg._formats_cli import prompts_from

    seen = {}
    monkeypatch.setattr(
        ecoseg.formats, "prompts_from_file", lambda *a, frames=None: seen.setdefault("f", frames)
    )
    args = build_parser().parse_args(
        ["segment", "v.mp4", "-o", "v.zarr", "--prompts-from", "a.json", "--format", "coco"]
        + ["--prompt-frames", "0,10", "--prompt-frames", "20"]
    )
    prompts_from(args)
    assert seen["f"] == [0, 10, 20]


def test_every_input_is_named_in_capitals_as_in_the_docs():
    """Usage lines name inputs as the docs do, `ecoseg measure STORE`, `ecoseg segment VIDEO`
    (measure, evaluate, export, edit said `store`, segment `video`, weights `name`)."""
    import argparse

    parser = build_parser()
    for action in parser._subparsers._group_actions[0].choices.values():
        for sub in [action] + [
            p
            for a in action._actions
            if isinstance(a, argparse._SubParsersAction)
            for p in a.choices.values()
        ]:
            for arg in sub._actions:
                if not arg.option_strings and not isinstance(arg, argparse._SubParsersAction):
                    name = arg.metavar or arg.dest
                    assert name == name.upper() or name.endswith(".yaml"), (sub.prog, name)


@pytest.mark.parametrize(
    "args, reason",
    [
        (["synth", "--fish", "-1"], "--fish must be an integer between 0 and 1000, got -1"),
        (["synth", "--invertebrates", "-2"], "--invertebrates must be an integer between 0"),
        (["synth", "--crf", "99"], "--crf must be an integer between 0 and 51, got 99"),
        (["classify", "s.zarr", "--model", "m.json", "--threshold", "2"], "--threshold must be"),
        (["batch", "v.mp4", "--retries", "-1"], "--retries must be a whole number >= 0, got -1"),
        (["batch", "v.mp4", "--workers", "0"], "--workers must be a positive whole number, got 0"),
        (["synth", "--size", "5000x5000"], "--size must be at most 4096x4096, got 5000x5000"),
        (["synth", "--size", "18x17"], "--size must have an even width and height"),
        (["segment", "v.mp4", "--model", "sam3", "--image-size", "500"], "--image-size must be"),
    ],
)
def test_a_bad_value_is_named_by_its_option(tmp_path, capsys, args, reason):
    """The library's checks named its keywords: `synth --fish -1` said 'n_fish must be ...',
    an option the command does not have; `--threshold 2` said 'threshold'; `--image-size 500`
    said 'image_size (--image-size) must be ...', both spellings."""
    assert main([*args, "-o", str(tmp_path / "out")] if args[0] != "classify" else args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ecoseg: error: {reason}") and len(err.splitlines()) == 1, err
    assert " (--" not in err, err  # no Python keyword before its option


def test_segment_image_size_is_named_by_its_option_alone(tmp_path, capsys):
    """``segment --image-size 500`` said "image_size (--image-size) must be a multiple of 14",
    the Python keyword too; the command says only its option, the Python API both."""
    video, out = tmp_path / "v.mp4", tmp_path / "m.zarr"
    args = ["segment", str(video), "-o", str(out), "--model", "sam3", "--image-size", "500"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == (
        "ecoseg: error: --image-size must be a multiple of 14 from 112 to 4032 "
        "(e.g. 336, 672, 1008), got 500\n"
    )
    with pytest.raises(ConfigError, match=r"^image_size \(--image-size\) must be a multiple"):
        ecoseg.segment(video, out=out, model="sam3", image_size=500)
    assert not out.exists()


@pytest.mark.parametrize(
    "message, said",
    [
        ("fast (--fast, bf16) is for the networks", "--fast (bf16) is for the networks"),
        ("fps (--fps) applies to image folders only", "--fps applies to image folders only"),
        ("fps (--fps): not a number", "--fps: not a number"),
        (
            "concepts (--concepts) need a SAM 3 model (--model sam3)",
            "--concepts need a SAM 3 model (--model sam3)",
        ),
        ("give it with train_videos=... (--train-video PATH)", "give it with --train-video PATH"),
        ("automatic discovery (--auto) needs the sam2 engine", None),
        ("no training stores given (--train STORE...)", None),
        ("frame rate (--fps: the store's 0.5 fps, now 2) differs", None),
        ("not found (--params takes JSON text or a file)", None),
        ("a photo survey (--concepts on images) takes no --fast", None),
        (
            "device='cuda:1' (--device) is for the sam2 and sam3 engines",
            "--device 'cuda:1' is for the sam2 and sam3 engines",
        ),
    ],
)
def test_cli_words_rewrites_a_keyword_before_its_option_and_leaves_prose(message, said):
    assert cli_words(message) == (message if said is None else said)


def test_evaluate_out_that_is_a_folder_names_the_option_as_the_other_output_checks(
    tmp_path, capsys
):
    """Said '(-o)' where every other output check says '(--out)'."""
    from ecoseg.store import MaskStore

    stores = [tmp_path / "p.zarr", tmp_path / "t.zarr"]  # there: a missing one is said first
    for store in stores:
        MaskStore.create(store, height=2, width=2).close()
    p, t = map(str, stores)
    assert main(["evaluate", p, "--truth", t, "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith(": is a folder; give a file name (--out)"), err


def test_every_count_option_reads_n_in_usage_as_in_the_readme():
    """`--workers N`, `--frames N` as the README writes them (usage said --workers WORKERS,
    --frames FRAMES, --retries RETRIES, where --detect-every and --fps said N)."""
    odd = [
        f"{command} {action.option_strings[-1]} {action.metavar}"
        for command, action in _options(build_parser())
        if action.type is int and action.metavar not in ("N", "PIXELS")
    ]
    assert not odd, odd


def test_the_calibration_synth_prints_is_accepted_back_by_measure(tmp_path, capsys):
    """`ecoseg synth` prints `calibration: 12.5 mm/px`; `ecoseg measure --calibration
    "12.5 mm/px"` refused it (`'12.5 mm/px' is not a number`). Typed back it is the bare
    number: the same calibration, the same tables byte for byte. It is the clip's own: it
    warned that '12.5 mm/px (scale)' replaced the stored '12.5 mm/px (synthetic)' and stored
    it as a plain scale; now it says nothing and the store keeps its synthetic calibration."""
    import shutil
    import warnings
    from pathlib import Path

    from ecoseg.errors import CalibrationReplacedWarning
    from ecoseg.store import MaskStore

    assert main(["synth", "-o", str(tmp_path / "clip"), "--frames", "2", "--size", "128x72"]) == 0
    printed = capsys.readouterr().out.splitlines()[-1]
    assert printed == "calibration: 12.5 mm/px"
    typed = printed.removeprefix("calibration: ")
    truth, bare = tmp_path / "clip" / "truth.zarr", tmp_path / "bare.zarr"
    shutil.copytree(truth, bare)
    before = MaskStore.open(truth).calibration
    assert before["mm_per_px"] == 12.5 and before["method"] == "synthetic"
    for store, spec in [(truth, typed), (bare, "12.5")]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", CalibrationReplacedWarning)
            assert (
                main(["measure", str(store), "-o", f"{store}.tables", "--calibration", spec]) == 0
            )
        assert MaskStore.open(store).calibration == before  # how it was measured is kept
    typed_tables = sorted(Path(f"{truth}.tables").glob("*.csv"))
    assert len(typed_tables) == 5
    for csv in typed_tables:
        assert csv.read_bytes() == (tmp_path / "bare.zarr.tables" / csv.name).read_bytes(), csv.name


def test_the_calibration_synth_and_info_print_is_the_stored_one_to_the_last_digit(tmp_path, capsys):
    """At 96x64 a synthetic clip's calibration is 16.666666666666668 mm/px; `ecoseg synth` and
    `ecoseg info` printed `16.6667 mm/px`, which typed back into `measure --calibration`
    replaced the stored calibration by another (areas off by ~2e-6 relative)."""
    from ecoseg.measure.calibration import parse_calibration
    from ecoseg.store import MaskStore

    assert main(["synth", "-o", str(tmp_path / "clip"), "--frames", "2", "--size", "96x64"]) == 0
    printed = capsys.readouterr().out.splitlines()[-1].removeprefix("calibration: ")
    truth = tmp_path / "clip" / "truth.zarr"
    assert main(["info", str(truth)]) == 0
    (shown,) = [
        ln for ln in capsys.readouterr().out.splitlines() if ln.split()[:1] == ["calibration"]
    ]
    stored = MaskStore.open(truth).calibration["mm_per_px"]
    assert stored == 1600 / 96
    assert printed == "16.666666666666668 mm/px"
    assert shown.split()[1:] == ["16.666666666666668", "mm/px", "(synthetic)"]
    assert parse_calibration(printed).mm_per_px == stored


def test_measure_refuses_another_unit_in_one_line(tmp_path):
    from ecoseg.synth import synth

    clip = synth(tmp_path / "clip", frames=2, size=(64, 48))
    proc = run("measure", str(clip.truth), "-o", str(tmp_path / "t"), "--calibration", "4 px/mm")
    assert_one_line_error(proc, "'4 px/mm'", "unit 'px/mm' is not accepted", "'mm/px'")
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, ConfigError("bad input")])
def test_the_last_line_is_the_commands_after_a_pass_left_suspended(stop, monkeypatch, capsys):
    """Ctrl-C during ``segment``'s backward pass: its bar, in a generator left suspended, was
    closed only at the interpreter's exit, so it redrew itself after ``ecoseg: interrupted``
    (and that line was glued to the bar's). Open bars are closed before the last line."""
    from tqdm.auto import tqdm

    import ecoseg._info_cli

    held = []

    def command(args):
        def frames():
            with tqdm(total=4, desc="segment (backwards)") as bar:
                for i in range(4):
                    bar.update(1)
                    yield i

        held.append(frames())
        next(held[-1])
        raise stop

    monkeypatch.setattr(ecoseg._info_cli, "_run_info", command)
    code = main(["info", "x.zarr"])
    err = capsys.readouterr().err
    last = "ecoseg: interrupted" if code == 130 else "ecoseg: error: bad input"
    assert code in (130, 2) and err.endswith(f"\n{last}\n"), err
    held.clear()  # the bar closes now, as at exit: it was closed already and says nothing
    assert capsys.readouterr().err == ""


def test_a_progress_line_is_written_below_an_open_bar(capsys):
    """A study's progress line (``_cli.logger``) was printed past an open bar's text, cutting
    it ('segment:  50%|#####     | 2/4ecoseg study: ...'); it is written as the warnings are,
    through tqdm, on a line of its own, and the bar drawn again below it."""
    from tqdm import tqdm

    from ecoseg._cli import logger

    capsys.readouterr()
    with tqdm(total=4, desc="segment", file=sys.stderr) as bar:
        bar.update(2)
        logger(True, "study")("tables: combining")
    lines = [line.split("\r")[-1] for line in capsys.readouterr().err.split("\n")]
    assert [line for line in lines if "ecoseg study" in line] == [
        "ecoseg study: tables: combining"
    ], lines
