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
