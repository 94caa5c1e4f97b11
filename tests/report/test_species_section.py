"""The report's Species identification section: reviewed / auto-classified / unknown."""

from __future__ import annotations

from ecoseg.report import report
from ecoseg.species import apply_edits
from ecoseg.species.edits import Edit
from ecoseg.species.review import open_for_edit, read_meta, write_meta


def test_report_states_how_each_species_was_named(tmp_path):
    import ecoseg

    clip = ecoseg.synth(tmp_path / "clip", seed=1, frames=8, size=(128, 72))
    with open_for_edit(clip.truth) as s:  # as a tracker and a classifier would leave it
        meta = read_meta(s)
        objs = meta["objects"]
        for o in objs[1:3]:
            o.update(class_source="classified", class_probability=0.8)
        objs[3].update({"class": "unknown", "class_source": "unknown", "class_probability": 0.2})
        write_meta(s, meta)
    apply_edits(clip.truth, [Edit("set_class", (1,), cls=objs[0]["class"])])
    report([clip.truth], tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert 'id="species-table"' in html and "Species identification" in html
    assert "auto-classified" in html and "mean probability 0.80" in html
    section = html[html.index('id="species-table"') :]
    section = section[: section.index("</table>")]
    tracks = ecoseg.measure(clip.truth)["tracks"]
    species = set(tracks["class"]) - {"unknown"}
    assert section.count("<tr>") == 1 + len(species) + 1  # heading, species, unknown
    assert "<em>unknown</em>" in section


def test_no_section_when_every_class_came_with_the_objects(tmp_path):
    import ecoseg

    clip = ecoseg.synth(tmp_path / "clip", seed=2, frames=4, size=(96, 64))
    report([clip.truth], tmp_path / "r.html")
    assert 'id="species-table"' not in (tmp_path / "r.html").read_text()


def test_classified_tracks_without_probabilities_warn_nothing(tmp_path):
    """Auto-classified tracks whose probabilities are all missing (NaN) give no mean, and
    no numpy "Mean of empty slice" RuntimeWarning reaches the person making the report."""
    import warnings

    import pandas as pd

    import ecoseg
    from ecoseg.report.species import species_table

    clip = ecoseg.synth(tmp_path / "clip", seed=1, frames=8, size=(128, 72))
    with open_for_edit(clip.truth) as s:
        meta = read_meta(s)
        for o in meta["objects"][1:3]:
            o.update(class_source="classified", class_probability=None)
        write_meta(s, meta)
    tracks = pd.DataFrame(
        {"class": ["wrasse"], "class_source": ["classified"], "class_probability": [None]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert species_table(tracks)["mean_probability"] is None  # was "nan"
        report([clip.truth], tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert 'id="species-table"' in page and "mean probability" not in page
