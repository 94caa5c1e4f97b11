import pytest
from species_helpers import tracker_store


@pytest.fixture
def store3(tmp_path):
    """A three-track 'motion tracker' store: (path, labels, scores)."""
    path = tmp_path / "m.zarr"
    labels, scores = tracker_store(path)
    return path, labels, scores
