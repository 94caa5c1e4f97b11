"""``ecoseg.segment``: the shell that joins video, engine and store."""

import pytest

import ecoseg
from ecoseg.errors import StoreError
from ecoseg.store import MaskStore


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("clip") / "c", frames=10, size=(64, 48), seed=3)


def test_resume_with_other_settings_is_refused(clip, tmp_path):
    out = tmp_path / "m.zarr"
    ecoseg.segment(clip.video, out=out, progress=False, params={"threshold": 4.0})
    before = ecoseg.open_masks(out).labels.values

    with pytest.raises(StoreError, match=r"m\.zarr: cannot resume: the parameters differ"):
        ecoseg.segment(clip.video, out=out, progress=False, resume=True)
    # the same settings resume (nothing left to do here) and leave the masks as they were
    ecoseg.segment(clip.video, out=out, progress=False, resume=True, params={"threshold": 4.0})
    assert (ecoseg.open_masks(out).labels.values == before).all()


def test_running_a_cell_again_after_ctrl_c_says_resume_continues_it(clip, tmp_path):
    """A notebook cell stopped with Ctrl-C (a KeyboardInterrupt mid-run) and run again was told
    only to pass overwrite=True, which throws the stored frames away; the store resumes to the
    uninterrupted run's masks (a short warm-up: with the default one the motion tracker finds
    nothing in this 10-frame clip, and two empty stores are equal whatever the resume did)."""
    out = tmp_path / "m.zarr"
    short = {"warmup": 3}

    def interrupt(done, total):
        if done == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ecoseg.segment(clip.video, out=out, progress=interrupt, params=short)
    stored = MaskStore.open(out).n_frames
    message = (
        r"m\.zarr: already exists; pass overwrite=True \(--overwrite\) to replace it, or "
        r"resume=True \(--resume\) to continue its interrupted run \(\d+ frames stored\): "
        r"`ecoseg segment \S+video\.mp4 -o \S+m\.zarr --resume --engine classical "
        r"--params '\{.*\}'`$"
    )
    with pytest.raises(StoreError, match=message):
        ecoseg.segment(clip.video, out=out, progress=False, params=short)
    ecoseg.segment(clip.video, out=out, progress=False, resume=True, params=short)
    whole = tmp_path / "whole.zarr"
    ecoseg.segment(clip.video, out=whole, progress=False, params=short)
    want = ecoseg.open_masks(whole).labels.values
    assert stored < len(want) and want[stored:].any()  # the resumed frames hold objects
    assert (ecoseg.open_masks(out).labels.values == want).all()
    with pytest.raises(StoreError, match=r"whole\.zarr: already exists; pass overwrite=True .*it$"):
        ecoseg.segment(clip.video, out=whole, progress=False)  # a finished run: no resume hint


@pytest.mark.parametrize(
    "params",
    ['{"threshold": 4}', "params.json", 3, ["threshold"]],
    ids=["json", "file", "3", "list"],
)
@pytest.mark.parametrize("concepts", [None, ["fish"]], ids=["classical", "concepts"])
def test_params_that_are_no_dict_are_named_before_any_work(clip, tmp_path, params, concepts):
    """``segment(..., params='{"threshold": 4}')`` (the CLI's --params text) was a ValueError
    'dictionary update sequence element #0 has length 1; 2 is required'."""
    from ecoseg.errors import ConfigError

    out = tmp_path / "m.zarr"
    with pytest.raises(ConfigError, match="^params must be a dict of engine settings, got "):
        ecoseg.segment(clip.video, out=out, params=params, concepts=concepts, progress=False)
    assert not out.exists()


def test_resume_from_another_engine_is_refused(clip, tmp_path):
    out = tmp_path / "m.zarr"
    ecoseg.segment(clip.video, out=out, progress=False)
    prompts = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[10, 10]]}]}]}
    with pytest.raises(StoreError, match="made with the classical engine"):
        ecoseg.segment(
            clip.video,
            prompts,
            out=out,
            resume=True,
            pretrained=False,
            image_size=64,
            device="cpu",
            progress=False,
        )


# ------------------------------------------------------------------ --device auto


@pytest.fixture
def machine(monkeypatch):
    """Pretend the machine has the accelerators named in ``machine(...)``."""
    import torch

    def have(*kinds):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: "cuda" in kinds)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: "mps" in kinds)

    return have


def test_auto_prefers_cuda_then_mps_then_cpu(machine):
    from ecoseg.engine import resolve_device

    machine("cuda", "mps")
    assert resolve_device("auto") == "cuda" and resolve_device(None) == "cuda"
    machine("mps")
    assert resolve_device("auto") == "mps"
    machine()
    assert resolve_device("auto") == "cpu" and resolve_device() == "cpu"
    assert resolve_device("cpu") == "cpu"


def test_auto_is_the_cpu_on_this_machine():
    import torch

    from ecoseg.engine import resolve_device

    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has an accelerator")
    assert resolve_device("auto") == "cpu"


@pytest.mark.parametrize(
    "device, message",
    [
        ("tpu", "unknown device 'tpu'; use auto, cpu, cuda, cuda:N or mps"),  # not 'cpu'
        ("meta", "unknown device 'meta'; use auto, cpu, cuda, cuda:N or mps"),
        ("cuda", "device 'cuda': CUDA is not available here; use auto or cpu"),
        ("cuda:1", "device 'cuda:1': CUDA is not available here; use auto or cpu"),
        ("mps", "device 'mps': Apple MPS is not available here; use auto or cpu"),
    ],
)
def test_a_bad_device_is_one_line(machine, device, message):
    from ecoseg.engine import resolve_device
    from ecoseg.errors import ConfigError

    machine()
    with pytest.raises(ConfigError) as info:
        resolve_device(device)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "count, device, message",
    [
        (1, "cuda:1", "device 'cuda:1': this machine has 1 GPU (cuda:0); use auto or cpu"),
        (
            2,
            "cuda:5",
            "device 'cuda:5': this machine has 2 GPUs (cuda:0 to cuda:1); use auto or cpu",
        ),
    ],
)
def test_a_gpu_number_beyond_the_machines_is_refused(machine, monkeypatch, count, device, message):
    """`--device cuda:3` on a one-GPU machine was accepted, and torch failed at the first
    tensor moved there (`CUDA error: invalid device ordinal`)."""
    import torch

    from ecoseg._device import unavailable
    from ecoseg.engine import resolve_device
    from ecoseg.errors import ConfigError

    machine("cuda")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    assert resolve_device("cuda:0") == "cuda:0" and resolve_device("cuda") == "cuda"
    with pytest.raises(ConfigError) as info:
        resolve_device(device)
    assert str(info.value) == message
    assert unavailable(device) == message.split(": ", 1)[1].split("; use")[0]


PROMPT = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[30, 20]]}]}]}
RANDOM_NET = dict(pretrained=False, image_size=64, progress=False)


def test_segment_records_the_device_used(clip, tmp_path, machine):
    machine()
    out = ecoseg.segment(clip.video, PROMPT, out=tmp_path / "m.zarr", **RANDOM_NET)
    assert MaskStore.open(out).provenance["parameters"] == {"device": "cpu"}
    # the classical engine runs no network: no device recorded, parameters as before
    out = ecoseg.segment(clip.video, out=tmp_path / "c.zarr", progress=False)
    assert "device" not in MaskStore.open(out).provenance["parameters"]


def test_segment_refuses_a_bad_device_before_writing(clip, tmp_path, machine):
    from ecoseg.errors import ConfigError

    machine()
    with pytest.raises(ConfigError, match="CUDA is not available"):
        ecoseg.segment(clip.video, PROMPT, out=tmp_path / "m.zarr", device="cuda", **RANDOM_NET)
    assert not (tmp_path / "m.zarr").exists()


def test_cli_device_option(clip, tmp_path, machine, capsys):
    import json

    from ecoseg.cli import main

    machine()
    with pytest.raises(SystemExit):
        main(["segment", "--help"])
    assert "auto|cpu|cuda|cuda:N|mps" in capsys.readouterr().out
    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps(PROMPT))
    args = ["segment", str(clip.video), "-o", str(tmp_path / "m.zarr"), "--prompts", str(prompts)]
    args += ["--random-weights", "--image-size", "64"]
    assert main([*args, "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err == "ecoseg: error: device 'cuda': CUDA is not available here; use auto or cpu\n"
    with pytest.raises(SystemExit):
        main([*args, "--device", "tpu"])  # not a device


# ------------------------------------------------------------------ --fast (bf16)


@pytest.fixture
def autocast_calls(monkeypatch):
    """The ``enabled`` argument of every bf16 autocast the sam2 network ran under (on a CPU
    that counts as having bf16 instructions, whatever this machine's)."""
    from ecoseg.engine import _runtime, discovery, session

    monkeypatch.setattr(_runtime, "cpu_has_bf16", lambda: True)
    calls = []
    for module in (session, discovery):
        real = module.bf16_autocast

        def spy(enabled, device, _real=real):
            calls.append(bool(enabled))
            return _real(enabled, device)

        monkeypatch.setattr(module, "bf16_autocast", spy)
    return calls


def test_fast_runs_the_network_in_bf16_and_is_recorded(clip, tmp_path, machine, autocast_calls):
    machine()
    exact = ecoseg.segment(clip.video, PROMPT, out=tmp_path / "e.zarr", **RANDOM_NET)
    assert autocast_calls and not any(autocast_calls)  # exact fp32 on the CPU by default
    autocast_calls.clear()
    fast = ecoseg.segment(clip.video, PROMPT, out=tmp_path / "f.zarr", fast=True, **RANDOM_NET)
    assert autocast_calls and all(autocast_calls)
    assert MaskStore.open(fast).provenance["parameters"] == {"device": "cpu", "fast": True}
    assert MaskStore.open(fast).n_frames == MaskStore.open(exact).n_frames == 10
    # a store resumes only in the precision that made it
    with pytest.raises(StoreError, match=r"f\.zarr: cannot resume: the parameters differ"):
        ecoseg.segment(clip.video, PROMPT, out=fast, resume=True, **RANDOM_NET)
    ecoseg.segment(clip.video, PROMPT, out=fast, resume=True, fast=True, **RANDOM_NET)


def test_fast_discovery_runs_in_bf16(clip, tmp_path, machine, autocast_calls):
    machine()
    out = ecoseg.segment(clip.video, out=tmp_path / "a.zarr", auto=True, fast=True, **RANDOM_NET)
    assert autocast_calls and all(autocast_calls)
    assert MaskStore.open(out).provenance["parameters"]["fast"] is True


def test_fast_without_a_bf16_path_is_refused_before_writing(clip, tmp_path):
    """The motion tracker has no network (SAM 3 concept tracking takes ``fast``:
    tests/engine/test_concepts_fast.py)."""
    from ecoseg.errors import ConfigError

    with pytest.raises(ConfigError, match="the classical engine has no bf16 path"):
        ecoseg.segment(clip.video, out=tmp_path / "m.zarr", fast=True, progress=False)
    assert not (tmp_path / "m.zarr").exists()


def test_cli_fast_option(clip, tmp_path, machine, monkeypatch, capsys):
    import json

    from ecoseg.cli import main
    from ecoseg.engine import _runtime

    machine()
    monkeypatch.setattr(_runtime, "cpu_has_bf16", lambda: True)  # any machine
    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps(PROMPT))
    out = tmp_path / "m.zarr"
    args = ["segment", str(clip.video), "-o", str(out), "--random-weights", "--image-size", "64"]
    assert main([*args, "--prompts", str(prompts), "--fast"]) == 0
    assert MaskStore.open(out).provenance["parameters"]["fast"] is True
    capsys.readouterr()
    assert main(["segment", str(clip.video), "-o", str(tmp_path / "c.zarr"), "--fast"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecoseg: error: --fast (bf16) is for the networks (sam2 engine")
    assert err.count("\n") == 1 and not (tmp_path / "c.zarr").exists()


def test_fast_on_a_cpu_without_bf16_stays_exact_and_says_so(
    clip, tmp_path, machine, autocast_calls, monkeypatch, capsys
):
    """bf16 without bf16 instructions ran 0.17x of fp32 here: --fast must not slow a laptop."""
    import json

    from ecoseg.cli import main
    from ecoseg.engine import _runtime

    machine()
    monkeypatch.setattr(_runtime, "cpu_has_bf16", lambda: False)
    with pytest.warns(_runtime.SlowBf16Warning, match="no bf16 instructions"):
        out = ecoseg.segment(clip.video, PROMPT, out=tmp_path / "m.zarr", fast=True, **RANDOM_NET)
    assert autocast_calls and not any(autocast_calls)
    assert MaskStore.open(out).provenance["parameters"] == {"device": "cpu"}  # fp32 ran
    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps(PROMPT))
    args = ["segment", str(clip.video), "-o", str(tmp_path / "c.zarr"), "--prompts", str(prompts)]
    capsys.readouterr()
    assert main([*args, "--random-weights", "--image-size", "64", "--fast"]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "bf16" in line]  # besides the progress bar
    assert len(said) == 1
    assert said[0].startswith("ecoseg: warning: fast (bf16) ignored: this CPU has no bf16")


@pytest.mark.parametrize("has_bf16", [True, False])
def test_discovery_resolves_fast_as_the_session_does(clip, monkeypatch, has_bf16):
    """napari hands ``fast`` to both: neither may run bf16 on a CPU without bf16."""
    import warnings

    from ecoseg import sam2
    from ecoseg.engine import _runtime
    from ecoseg.engine.discovery import DiscoveryEngine
    from ecoseg.engine.session import StreamingSession

    monkeypatch.setattr(_runtime, "cpu_has_bf16", lambda: has_bf16)
    net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
    video = ecoseg.open_video(clip.video)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        found = DiscoveryEngine(net, video, fast=True).autocast
        tracked = StreamingSession(net, video, fast=True).autocast
    assert found is tracked is has_bf16
    slow = [w for w in said if issubclass(w.category, _runtime.SlowBf16Warning)]
    assert len(slow) == (0 if has_bf16 else 2)


@pytest.mark.parametrize(
    "kwargs", [{}, dict(prompts=PROMPT, pretrained=False, image_size=64)], ids=["motion", "sam2"]
)
def test_resume_of_a_complete_store_does_no_work(clip, tmp_path, monkeypatch, kwargs):
    """``--resume`` on a finished store tracked the whole video again from frame 0 for
    nothing (the SAM 2 engine ran its network on every frame); it now leaves the store as it
    is. Settings are still checked first."""
    import ecoseg.engine.run as run

    out = tmp_path / "m.zarr"
    ecoseg.segment(clip.video, out=out, progress=False, **kwargs)
    before = ecoseg.open_masks(out).labels.values

    def no_writing(*args, **kw):
        raise AssertionError("the complete store was tracked again")

    monkeypatch.setattr(run, "write_results", no_writing)
    assert ecoseg.segment(clip.video, out=out, progress=False, resume=True, **kwargs) == str(out)
    assert (ecoseg.open_masks(out).labels.values == before).all()


def test_a_box_past_the_frames_edge_is_cut_and_tracked(clip, tmp_path):
    """A prompt box reaching past the frame's edge went to the network as it was, corners
    outside the image, without a word. It is cut to the frame with a warning naming the
    file (a PromptClippedWarning), and the store records the box it tracked from."""
    import json

    path = tmp_path / "p.json"
    box = {"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [40, 20, 70, 50]}]}]}
    path.write_text(json.dumps(box))
    with pytest.warns(UserWarning, match=r"p\.json: object 1, frame 0: box .* cut to"):
        out = ecoseg.segment(clip.video, str(path), out=tmp_path / "m.zarr", **RANDOM_NET)
    stored = MaskStore.open(out).provenance["prompts"]["objects"][0]["prompts"][0]["box"]
    assert stored == [40.0, 20.0, 64.0, 48.0]


def test_a_parameter_the_store_does_not_record_is_taken_at_its_default(clip, tmp_path):
    """A parameter added to ecoseg after a store was made is missing from the store's record:
    resume refused every such store, even asked for the default the older code behaved as."""
    out = tmp_path / "m.zarr"
    ecoseg.segment(clip.video, out=out, progress=False)
    with MaskStore.open(out, mode="a") as store:
        recorded = dict(store.provenance["parameters"])
        del recorded["still_frames"]
        store.set_provenance(parameters=recorded)
    before = ecoseg.open_masks(out).labels.values

    ecoseg.segment(clip.video, out=out, progress=False, resume=True)  # the default: resumed
    with pytest.raises(
        StoreError,
        match=r"m\.zarr: cannot resume: the parameters differ from the run that made the store "
        r"\(still_frames: not recorded in the store, 10 now\)",
    ):
        ecoseg.segment(
            clip.video, out=out, progress=False, resume=True, params={"still_frames": 10}
        )
    assert (ecoseg.open_masks(out).labels.values == before).all()


def test_random_weights_are_the_same_each_run(clip, tmp_path):
    """``pretrained=False`` (``--random-weights``) drew new weights on each run, so the report's
    reproduce line (or a study run again) made another store; now they come from a fixed seed,
    recorded in the model entry, and the caller's torch random state is left as it was."""
    import numpy as np
    import torch

    stores = []
    for k, seed in enumerate((1, 2)):
        torch.manual_seed(seed)  # whatever the caller's random state, the same network
        before = torch.get_rng_state()
        out = ecoseg.segment(clip.video, PROMPT, out=tmp_path / f"{k}.zarr", **RANDOM_NET)
        assert torch.equal(torch.get_rng_state(), before)
        stores.append(ecoseg.open_masks(out))
    a, b = stores
    assert a.labels.values.any()
    np.testing.assert_array_equal(a.labels.values, b.labels.values)
    np.testing.assert_array_equal(a.scores.values, b.scores.values)
    model = MaskStore.open(tmp_path / "0.zarr").provenance["model"]
    assert model["pretrained"] is False and model["seed"] == 0
