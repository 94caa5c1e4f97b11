"""Environment variables the docs name, set to something they cannot mean: one line naming the
variable and its value before any work, or (a blank folder) taken as unset.

``SOURCE_DATE_EPOCH`` (the time stamp of reproducible runs, whole seconds since 1970): a date
(``2024-03-15``) or an empty value was a ``ValueError`` traceback from inside NumPy, which
reads it with ``int()`` when SciPy loads, or from ``ecoseg.provenance.created``; ``-5`` and
``1e9`` were taken. ``ECOSEG_WEIGHTS_DIR`` of spaces was a weights cache in a folder named by
the spaces; a relative one (``weights``) a different cache in every working folder, and so
was a relative ``ECOSEG_HASH_CACHE`` (``sha256.json``) a different hash cache file.
``HF_ENDPOINT`` of no web address was *cannot reach None:80*.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from reliability_helpers import assert_names, assert_one_line_error, child_env

from ecoseg.errors import ConfigError

pytestmark = pytest.mark.bad_input

SYNTH = ("synth", "--frames", "2", "--size", "32x32", "--quiet")


@pytest.mark.parametrize("epoch", ["2024-03-15", "1e9", "-5", "1710460800.5", "99999999999999"])
def test_a_source_date_epoch_that_is_no_time_stamp_is_one_line(epoch, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    code, _, err = cli(*SYNTH, "-o", tmp_path / "clip")
    assert_one_line_error(code, err, f"SOURCE_DATE_EPOCH={epoch!r}", "whole number of seconds")
    assert not (tmp_path / "clip").exists()


@pytest.mark.parametrize("epoch", ["", "yesterday"])
def test_a_source_date_epoch_numpy_cannot_read_is_one_line_not_its_traceback(epoch, tmp_path):
    """In a fresh process, as a user runs it: NumPy read the value first when SciPy loaded."""
    env = dict(child_env(), SOURCE_DATE_EPOCH=epoch)
    args = [sys.executable, "-m", "ecoseg", *SYNTH, "-o", str(tmp_path / "clip")]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert_one_line_error(done.returncode, done.stderr, f"SOURCE_DATE_EPOCH={epoch!r}")
    assert not (tmp_path / "clip").exists()


def test_created_names_a_bad_source_date_epoch(monkeypatch):
    from ecoseg.provenance import created

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "2024-03-15")
    with pytest.raises(ConfigError) as info:
        created()
    assert_names(info, "SOURCE_DATE_EPOCH='2024-03-15'")


@pytest.mark.parametrize("blank", ["  ", "\t"])
def test_a_blank_weights_dir_is_the_default_cache(blank, cli, monkeypatch):
    monkeypatch.delenv("ECOSEG_WEIGHTS_DIR", raising=False)
    code, default, err = cli("weights", "path", "sam2.1-tiny")
    assert code == 0, err
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", blank)
    code, out, err = cli("weights", "path", "sam2.1-tiny")
    assert code == 0, err
    assert out == default, (out, default)


@pytest.mark.parametrize(
    "args",
    [
        ("weights", "list"),
        ("weights", "path", "sam2.1-tiny"),
        ("weights", "verify"),
        ("weights", "download", "sam3"),
    ],
    ids=["list", "path", "verify", "download"],
)
@pytest.mark.parametrize("relative", ["weights", "./cache/weights", "../weights"])
def test_a_relative_weights_dir_is_refused(relative, args, tmp_path, cli, monkeypatch):
    """A relative ``ECOSEG_WEIGHTS_DIR`` named a different cache in each working folder (a
    download made in one folder was missing in the next): one line asking for an absolute
    path and naming the one it would be from here; nothing is created."""
    here = tmp_path / "project"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", relative)
    code, out, err = cli(*args)
    assert_one_line_error(
        code, err, f"ECOSEG_WEIGHTS_DIR={relative}: a relative path", "absolute path", str(here)
    )
    assert out == ""
    assert sorted(tmp_path.rglob("*")) == [here]


def test_a_weights_dir_under_home_is_not_relative(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", "~/weights")
    code, out, err = cli("weights", "path", "sam2.1-tiny")
    assert code == 0, err
    assert out.strip() == str(tmp_path / "weights" / "sam2.1_hiera_tiny.pt")


@pytest.mark.parametrize("relative", ["sha256.json", "./cache/sha256.json", "../sha256.json"])
def test_a_relative_hash_cache_is_refused(relative, tmp_path, cli, monkeypatch):
    """A relative ``ECOSEG_HASH_CACHE`` named a different cache file in each working folder
    (a video hashed from one folder was read again from the next): one line asking for an
    absolute path and naming the one it would be from here, before any work."""
    here = tmp_path / "project"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setenv("ECOSEG_HASH_CACHE", relative)
    code, out, err = cli(*SYNTH, "-o", here / "clip")
    assert_one_line_error(
        code, err, f"ECOSEG_HASH_CACHE={relative}: a relative path", "absolute path", str(here)
    )
    assert out == ""
    assert sorted(tmp_path.rglob("*")) == [here]


def test_a_relative_hash_cache_is_refused_by_the_hashing_itself(tmp_path, monkeypatch):
    """From Python, where no command line checks it first: the first cached hash says so."""
    from ecoseg._hashing import CACHE_MIN_BYTES, cached_sha256_file

    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * CACHE_MIN_BYTES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECOSEG_HASH_CACHE", "sha256.json")
    with pytest.raises(ConfigError) as info:
        cached_sha256_file(big)
    assert_names(info, "ECOSEG_HASH_CACHE=sha256.json: a relative path", str(tmp_path))
    assert not (tmp_path / "sha256.json").exists()


def test_a_hash_cache_under_home_is_not_relative(tmp_path, monkeypatch):
    from ecoseg._hashing import hash_cache_path

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ECOSEG_HASH_CACHE", "~/sha256.json")
    assert hash_cache_path() == tmp_path / "sha256.json"


@pytest.mark.parametrize("endpoint", ["", "huggingface.co", "ftp://mirror"])
def test_an_hf_endpoint_that_is_no_web_address_is_named(endpoint, tmp_path):
    """``HF_ENDPOINT`` of no web address: the download said *cannot reach None:80* (in a fresh
    process: ``huggingface_hub`` reads the variable when it is imported)."""
    env = dict(child_env(), HF_ENDPOINT=endpoint, ECOSEG_WEIGHTS_DIR=str(tmp_path / "w"))
    env.pop("HF_HUB_OFFLINE", None)
    args = [sys.executable, "-m", "ecoseg", "weights", "download", "sam3"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    line = assert_one_line_error(done.returncode, done.stderr, f"HF_ENDPOINT={endpoint!r}")
    assert "None:" not in line
    assert not (tmp_path / "w" / "sam3").exists()
