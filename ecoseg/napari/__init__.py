"""The ecoseg napari plugin (npe2 manifest: ``napari.yaml``).

- reader: video files (lazy, one frame decoded when shown, real frame times in the layer
  metadata) and ecoseg mask stores (video, Labels with object features, Tracks; mm scale);
- writer: a Labels layer into a new ecoseg mask store;
- sample data: the bundled reef clip with its ground truth;
- widgets: *Segment & track* (:mod:`ecoseg.napari._segment`) and *Measurements*
  (:mod:`ecoseg.napari._measure`).

Nothing in ecoseg imports this package; it needs the ``napari`` extra
(``pip install "ecoseg[napari]"``). See ``docs/napari.md``.
"""
