"""The xarray view of a store: :func:`open_masks`."""

from __future__ import annotations

from typing import Any

import numpy as np

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
        otherwise read frame by frame on indexing) and ``scores`` (t, object) float32;
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

    store = path if isinstance(path, MaskStore) else MaskStore.open(path)
    n = store.n_frames
    group = store.group  # a closed zip store raises here
    objects = store.objects
    k = len(objects)
    try:
        ds = _open_with_xarray(group)
    except Exception:  # e.g. arrays of different lengths past the progress marker (killed run)
        ds = _open_by_hand(store, n, k)
    ds = ds.isel(t=slice(0, n), object=slice(0, k))
    ds = ds.set_coords("time").assign_coords(
        t=("t", np.arange(n, dtype=np.int64), {"long_name": "frame index"}),
        object=("object", store.object_ids, {"long_name": "object id"}),
        object_class=("object", np.array([o["class"] for o in objects], dtype=object)),
        object_source=("object", np.array([o["source"] for o in objects], dtype=object)),
    )
    time = ds["time"].attrs
    ds = ds.assign_coords(time=("t", store.read_time(), time))  # small: load it
    ds["time"].attrs.update(units="s", long_name="frame time")
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


def _open_with_xarray(group):
    import importlib.util

    import xarray as xr

    chunks = {} if importlib.util.find_spec("dask") is not None else None
    ds = xr.open_dataset(
        group.store,
        engine="zarr",
        group=group.path or None,
        consolidated=False,
        zarr_format=3,
        chunks=chunks,
        cache=False,
        mask_and_scale=False,
        decode_times=False,
        decode_timedelta=False,
        decode_coords=False,
    )
    return ds[["labels", "time", "scores"]]


def _open_by_hand(store: MaskStore, n: int, k: int):
    """The committed ``n`` frames and ``k`` objects of each array, wrapped lazily."""
    import xarray as xr
    from xarray.core import indexing

    def lazy(arr, dims, *keep):
        var = xr.Variable(dims, indexing.LazilyIndexedArray(_zarr_backend_array(arr)))
        return var[tuple(slice(0, m) for m in keep)]

    return xr.Dataset(
        {
            "labels": lazy(store.labels, ("t", "y", "x"), n),
            "time": lazy(store.time, ("t",), n),
            "scores": lazy(store.scores, ("t", "object"), n, k),
        }
    )


_BACKEND_ARRAY = None


def _zarr_backend_array(array):
    """Lazy xarray access to a zarr array (used when xarray's zarr backend cannot open it)."""
    global _BACKEND_ARRAY
    if _BACKEND_ARRAY is None:
        from xarray.backends import BackendArray
        from xarray.core import indexing

        class ZarrBackendArray(BackendArray):
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

        _BACKEND_ARRAY = ZarrBackendArray
    return _BACKEND_ARRAY(array)
