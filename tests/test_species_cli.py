"""The ``ecoseg classify`` output (ecoseg/_species_cli.py)."""

import pandas as pd

from ecoseg._species_cli import class_lines


def test_a_long_species_name_keeps_the_columns_aligned():
    """A name longer than 16 characters (``Acanthurus lineatus``) pushed its source and count
    right of the other rows'."""
    counts = pd.Series(
        [2, 2, 1],
        index=pd.MultiIndex.from_tuples(
            [
                ("Acanthurus lineatus", "classified"),
                ("Labre à tête", "classified"),
                ("unknown", "unknown"),
            ]
        ),
    )
    lines = class_lines(counts)
    assert (
        len({line.rindex(src) for line, src in zip(lines, counts.index.get_level_values(1))}) == 1
    )
    assert len({len(line.rstrip("0123456789")) for line in lines}) == 1
