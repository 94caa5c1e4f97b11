"""A device named on the command line as the library names it: ``--device cuda:1`` (one GPU of
several) and ``--device CUDA`` were refused by argparse's choices (``invalid choice``) though
``ecoseg.segment(device="cuda:1")`` takes them; a mistyped one had no hint. One rule now
(``ecoseg._device.check_device_name``) for ``--device``, ``segment``, ``batch`` and a study
file."""

from __future__ import annotations

import pytest
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg.errors import ConfigError

pytestmark = pytest.mark.bad_input


@pytest.fixture
def no_cuda(monkeypatch):
    """This machine without CUDA, whatever it has."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("given", ["cuda:1", "CUDA:1", "Cuda"])
def test_a_gpu_by_number_reaches_the_no_cuda_check(
    given, clip, good_prompts, tmp_path, no_model, no_cuda, cli
):
    out = tmp_path / "m.zarr"
    args = ["--prompts", good_prompts, "--random-weights", "--image-size", "64"]
    code, _, err = cli("segment", clip.video, "-o", out, *args, "--device", given)
    said = f"device {given.lower()!r}: CUDA is not available here; use auto or cpu"
    assert_one_line_error(code, err, said)
    assert "invalid choice" not in err and not out.exists()
    code, _, err = cli(
        "batch", clip.video, "-o", tmp_path / "b", *args[2:], "--auto", "--device", given
    )
    assert_one_line_error(code, err, said)


@pytest.mark.parametrize(
    "given, hint",
    [
        ("gpu", " (did you mean 'cuda'?)"),  # not difflib's 'cpu'
        ("GPU:1", " (did you mean 'cuda:1'?)"),
        ("cuda1", " (did you mean 'cuda:1'?)"),
        ("cdua", " (did you mean 'cuda'?)"),
        ("cuda:x", " (did you mean 'cuda'?)"),
        ("quantum", ""),
        ("tpu", ""),  # another device, not a typo of 'cpu' (difflib: 2 letters of 3 alike)
    ],
)
def test_an_unknown_device_is_one_line_with_the_closest_name(
    given, hint, clip, tmp_path, cli, capsys
):
    said = f"unknown device {given.lower()!r}{hint}; use auto, cpu, cuda, cuda:N or mps"
    for command in ("segment", "batch"):
        with pytest.raises(SystemExit) as info:  # argparse's exit, in ecoseg's one line
            cli(command, clip.video, "-o", tmp_path / "o", "--device", given)
        err = capsys.readouterr().err
        assert_one_line_error(info.value.code, err, f"{command}: argument --device: {said}")
    with pytest.raises(ConfigError) as exc:
        ecoseg.segment(clip.video, out=tmp_path / "n.zarr", device=given, progress=False)
    assert_names(exc, f"device (--device): {said}")
    with pytest.raises(ConfigError) as exc:
        ecoseg.batch.batch([clip.video], tmp_path / "e", device=given, progress=False)
    assert_names(exc, f"device (--device): {said}")


@pytest.fixture
def no_mps(monkeypatch):
    """This machine without Apple MPS, whatever it has."""
    import torch

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.mark.parametrize("given", ["cpu:0", "CPU:3"])
def test_torch_s_names_of_the_cpu_are_the_cpu(given, clip, tmp_path, cli):
    """``cpu:N`` (torch runs every index on the CPU), which ``ecoseg.segment`` took until
    stop 61 and ``check_device_name`` then refused as an unknown device, is ``cpu`` again, from
    the command line, Python and a study file alike."""
    from ecoseg._device import check_device_name
    from ecoseg.study import load_study

    assert check_device_name(given) == "cpu"
    out = tmp_path / "c.zarr"
    code, _, err = cli("segment", clip.video, "-o", out, "--device", given, "--quiet")
    assert code == 0 and "unknown device" not in err and out.exists()
    ecoseg.segment(clip.video, out=tmp_path / "p.zarr", device=given, progress=False)
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    path = tmp_path / "study.yaml"
    path.write_text(f"output: out\nvideos:\n  - {{path: v.mp4, auto: true, device: {given}}}\n")
    assert [video.device for video in load_study(path).videos] == ["cpu"]


@pytest.mark.parametrize("given", ["mps:0", "MPS:0"])
def test_torch_s_name_of_the_apple_gpu_is_mps(
    given, clip, good_prompts, tmp_path, no_model, no_mps, cli
):
    """``mps:0`` is the one Apple GPU, ``mps``: a machine without one says so, as for
    ``mps`` (it was an unknown device); ``mps:1`` (there is none) is still unknown."""
    args = ["--prompts", good_prompts, "--random-weights", "--image-size", "64"]
    code, _, err = cli("segment", clip.video, "-o", tmp_path / "m.zarr", *args, "--device", given)
    said = "device 'mps': Apple MPS is not available here; use auto or cpu"
    assert_one_line_error(code, err, said)
    with pytest.raises(ConfigError) as exc:
        ecoseg.segment(clip.video, out=tmp_path / "n.zarr", device="mps:1", progress=False)
    assert_names(exc, "unknown device 'mps:1' (did you mean 'mps'?)")
