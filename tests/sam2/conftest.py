"""Fixtures for the SAM 2 tests (helpers in ``sam2_oracle.py``, next to this file).

``oracle_pair`` (session)
    ``oracle_pair(name, image_size=256) -> OraclePair(official, ours, variant, state_dict)``
    from :func:`sam2_oracle.make_pair`, cached per ``(name, image_size)`` (``sam2.1-tiny`` at
    256 px, which several modules use, and one other pair are kept). Skips when the official
    ``sam2`` package (or hydra) is missing. Do not modify the cached models:
    ``copy.deepcopy(pair.ours)`` first.
``oracle`` (session)
    The :mod:`sam2_oracle` module itself (``oracle.agrees``, ``oracle.mask_agreement``,
    ``oracle.official_image_predictor``, ``oracle.reef_image``, ...), for tests that prefer a
    fixture over an import.
"""

from __future__ import annotations

import pytest
import sam2_oracle


@pytest.fixture(scope="session")
def oracle():
    """The oracle helper module."""
    return sam2_oracle


@pytest.fixture(scope="session")
def oracle_pair():
    """Factory ``oracle_pair(name, image_size=256) -> OraclePair`` (cached per session)."""
    pytest.importorskip("sam2")
    pytest.importorskip("hydra")
    cache: dict[tuple[str, int], sam2_oracle.OraclePair] = {}
    pinned = ("sam2.1-tiny", sam2_oracle.ORACLE_IMAGE_SIZE)  # small, asked for again and again

    def get(name: str, image_size: int = sam2_oracle.ORACLE_IMAGE_SIZE):
        key = (name, image_size)
        if key not in cache:
            for old in [k for k in cache if k != pinned]:
                del cache[old]  # keep memory bounded: large variants are ~0.9 GB a pair
            cache[key] = sam2_oracle.make_pair(name, image_size)
        return cache[key]

    return get
