"""The xarray view of a store: :func:`open_masks`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ecoseg.store.chunks import CheckedArray
from ecoseg.store.layout import STORE_VERSION
from ecoseg.store.maskstore import MaskStore

__all__ = ["open_masks"]


# ---------------------------------------------------------------------------- xarray view
def open_masks(path: Any) -> Any:
    """Open a mask store as a lazy :class:`xarray.Dataset`.

    Parameters
    ----------
    path : str, Path, URL, zarr Store or MaskStore
        Store location (local folder, ``.zip``, ``memory://``, fsspec URL).

    Returns
    -------
    xarray.Dataset
        Data variables ``labels`` (t, y, x) uint32 (lazy: dask-backed when dask is installed,
        one dask chunk per stored chunk, otherwise read on indexing) and ``scores`` (t,
        object) float32. Every read checks the chunk keys of the frames it reads: a chunk
        missing inside the committed frames is a :class:`~ecoseg.errors.StoreError` naming
        the store, array, frames and key (as :meth:`MaskStore.read_labels`), never zeros;
        coordinates ``t`` (frame index), ``time`` (t, seconds), ``object`` (ids),
        ``object_class`` and ``object_source``. Units in each variable's ``attrs["units"]``.
        Dataset attributes: ``provenance`` (dict), ``calibration`` (dict or None),
        ``mm_per_px`` (only when calibrated), ``objects`` (list of dicts), ``complete``,
        ``ecoseg_version`` (writer), ``store_version``, ``store``. Only committed frames
        appear.

    Examples
    --------
    >>> import numpy as np
    >>> s = MaskStore.create("memory://doc-xr", height=3, width=4, overwrite=True,
    ...                      objects=[(2, "urchin", "truth")])
    >>> s.append(np.full((2, 3, 4), 2, np.uint32), [0.0, 0.5])
    >>> s.close()
    >>> ds = open_masks("memory://doc-xr")
    >>> dict(ds.labels.sizes), ds.time.attrs["units"], ds.object_class.values.tolist()
    ({'t': 2, 'y': 3, 'x': 4}, 's', ['urchin'])
    """

    import xarray as xr

    store = path if isinstance(path, MaskStore) else MaskStore.open(path)
    n = store.n_frames
    _ = store.group  # a closed zip store raises here
    objects = store.objects
    k = len(objects)
    time_attrs = {"units": "s", "long_name": "frame time"}
    if store.provenance_record.is_survey:  # a photograph's number, as the tables say
        time_attrs = {"units": "index", "long_name": "photograph (a photo survey has no time)"}
    ds = xr.Dataset(
        {
            "labels": _lazy(store, store.labels, n, ("t", "y", "x")),
            "scores": _lazy(store, store.scores, n, ("t", "object")),
        }
    )
    ds = ds.isel(object=slice(0, k)).assign_coords(
        t=("t", np.arange(n, dtype=np.int64), {"long_name": "frame index"}),
        time=("t", store.read_time(), time_attrs),  # small: load
        object=("object", store.object_ids, {"long_name": "object id"}),
        object_class=("object", np.array([o["class"] for o in objects], dtype=object)),
        object_source=("object", np.array([o["source"] for o in objects], dtype=object)),
    )
    ds["labels"].attrs.update(units="instance id", long_name="instance label")
    ds["scores"].attrs.update(units="1", long_name="object presence score")
    cal = store.calibration
    ds.attrs = {
        "provenance": store.provenance,
        "calibration": cal,
        "objects": objects,
        "complete": store.complete,
        "ecoseg_version": store.writer_version,
        "store_version": STORE_VERSION,
        "store": store.path,
    }
    if cal and cal.get("mm_per_px"):
        ds.attrs["mm_per_px"] = float(cal["mm_per_px"])
    return ds


def _lazy(store: MaskStore, array, n: int, dims: tuple[str, ...]) -> Any:
    """The ``n`` committed frames of a store ``array``, read lazily and checked per read
    (:class:`~ecoseg.store.chunks.CheckedArray`): dask-backed with one dask chunk per stored
    chunk when dask is installed (xarray wraps it), otherwise read on indexing."""
    import importlib.util

    import xarray as xr
    from xarray.core import indexing

    checked = CheckedArray(array, n, store.all_chunks, store.path)
    var = xr.Variable(dims, indexing.LazilyIndexedArray(_backend_array(checked)))
    if importlib.util.find_spec("dask") is None:
        return var
    return var.chunk(dict(zip(dims, checked.chunks)))


_BACKEND_ARRAY = None


def _backend_array(array):
    """Lazy xarray access to an array-like with basic indexing (without dask)."""
    global _BACKEND_ARRAY
    if _BACKEND_ARRAY is None:
        from xarray.backends import BackendArray
        from xarray.core import indexing

        class CheckedBackendArray(BackendArray):
            def __init__(self, array):
                self.array = array
                self.shape = tuple(array.shape)
                self.dtype = np.dtype(array.dtype)

            def __getitem__(self, key):
                return indexing.explicit_indexing_adapter(
                    key, self.shape, indexing.IndexingSupport.BASIC, self._getitem
                )

            def _getitem(self, key):
                return np.asarray(self.array[key])

        _BACKEND_ARRAY = CheckedBackendArray
    return _BACKEND_ARRAY(array)
