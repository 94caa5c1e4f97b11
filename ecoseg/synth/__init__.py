"""Procedural reef footage with exact ground truth, for tests, the demo and benchmarks.

A :class:`Scene` is made from a seed by :func:`make_scene`: a textured reef that is static in
the world (sand, rock, algae and coral colonies of four growth forms), fish of four classes
that swim with smooth random headings, turn, occlude one another and enter or leave the frame,
slow invertebrates on the bottom, and a camera that is static, pans along a transect or shakes.
:func:`render` draws any frame of it, with blue-green depth attenuation, flickering caustics,
drifting marine snow and sensor noise, together with its exact instance labels: a pixel carries
an organism's id exactly where that organism was painted and not covered by a nearer one, and
ids never change during a clip (also when an animal leaves and comes back).

:func:`synth` writes the clip as H.264 ``video.mp4`` and the truth as a mask store
``truth.zarr`` (the engines' layout) with the calibration used. The truth's objects are the
organisms that at least one frame shows: an animal that stays off-frame, or behind nearer ones,
for the whole clip has no pixel to count or score, so it is not listed (its id is skipped).
:func:`synth_frames` renders in memory, without files.

The package's modules, in the order a clip is made: :mod:`~ecoseg.synth.species` (classes,
sizes, colours), :mod:`~ecoseg.synth.camera` (the camera's path), :mod:`~ecoseg.synth.reef`
(the painted reef, caustics, water), :mod:`~ecoseg.synth.animals` (paths and shapes),
:mod:`~ecoseg.synth.scene` (:func:`make_scene`), :mod:`~ecoseg.synth.rendering` (frames and
labels) and :mod:`~ecoseg.synth.writer` (:func:`synth`: the video and the truth store).
``ecoseg.synth`` is both this package and the function :func:`synth`: calling the package
calls the function.

Everything is a pure function of the seed and the parameters (a :class:`numpy.random.Generator`
per part of the scene, no global state), so the same call gives the same frames and labels. A
pixel's label is decided by +, -, *, / and square roots of float64 numbers only, which IEEE 754
rounds identically everywhere; the animals' paths use sines and cosines, which another CPU or
C library may round differently in the last bit, moving a label boundary only with negligible
probability. The images may differ more across machines: numpy picks its vectorised code by
processor, and its AVX-512 ``arctan2`` in float32 (the corals' texture) rounds differently, so
a few pixels of the reef differ by one level, and the motion tracker can make other tracks of
such a clip (everything else, labels included, came out the same with and without numpy's
AVX-512 code; ``data/make_species_model.py`` renders its clips without it). The H.264
bytes depend on the frames and the libx264/FFmpeg build only, not on the machine's core count or
SIMD code: one x264 thread with CPU-independent arithmetic
(:data:`~ecoseg.synth.writer.ENCODER_OPTIONS`) and swscale's exact colour conversion.

Examples
--------
>>> from ecoseg.synth import make_scene, render
>>> scene = make_scene(seed=1, frames=10, size=(96, 64))
>>> image, labels = render(scene, 0)
>>> image.shape, image.dtype, labels.dtype
((64, 96, 3), dtype('uint8'), dtype('uint32'))
"""

from __future__ import annotations

from ecoseg._lazy import make_callable
from ecoseg.synth.animals import Organism
from ecoseg.synth.rendering import RenderLayers, SynthFrame, render, render_layers, synth_frames
from ecoseg.synth.scene import CAMERAS, Scene, make_scene
from ecoseg.synth.species import FISH_CLASSES, INVERTEBRATE_CLASSES
from ecoseg.synth.writer import SynthResult, synth

__all__ = [
    "CAMERAS",
    "FISH_CLASSES",
    "INVERTEBRATE_CLASSES",
    "Organism",
    "RenderLayers",
    "Scene",
    "SynthFrame",
    "SynthResult",
    "make_scene",
    "render",
    "render_layers",
    "synth",
    "synth_frames",
]

make_callable(__name__, "synth")
