"""ecoseg.sam2.build and the package's lazy exports."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from ecoseg import sam2
from ecoseg.errors import ConfigError


def test_random_weights_are_reproducible():
    torch.manual_seed(7)
    a = sam2.build("sam2-tiny", pretrained=False, image_size=64, device="cpu")
    torch.manual_seed(7)
    b = sam2.build("sam2-tiny", pretrained=False, image_size=64, device="cpu")
    torch.manual_seed(8)
    c = sam2.build("sam2-tiny", pretrained=False, image_size=64, device="cpu")
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert not a.training and a.image_size == 64 and a.variant.name == "sam2-tiny"
    assert next(a.parameters()).device == torch.device("cpu")


def test_default_device():
    m = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(m.parameters()).device.type == expected


@pytest.mark.parametrize("size", [100, 16, 0])
def test_bad_image_size(size):
    with pytest.raises(ConfigError, match="image_size"):
        sam2.build("sam2.1-tiny", pretrained=False, image_size=size, device="cpu")


def test_bad_names_and_devices():
    with pytest.raises(ConfigError, match="valid names"):
        sam2.build("tiny", pretrained=False)
    with pytest.raises(ConfigError, match="device"):
        sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="tpu9")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cuda")


def test_exports():
    assert {"build", "ImagePredictor", "VARIANTS", "load_checkpoint"} <= set(dir(sam2))
    assert sam2.VARIANTS["sam2.1-tiny"].name == "sam2.1-tiny"
    with pytest.raises(AttributeError):
        _ = sam2.not_a_thing


def test_import_is_light():
    """Importing ecoseg.sam2 and listing the weights does not import torch."""
    code = (
        "import sys; import ecoseg.sam2; from ecoseg.sam2 import weights, variants; "
        "weights.list_weights(); assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
