"""What is at a location: the one-line reason it is no mask store, or may not be replaced.

Zarr's own errors name its internals (``No group found in store LocalStore('file://notes.txt')
at path ''``, ``An array already exists in store file://arr.zarr at path .``). When
:meth:`~ecoseg.store.MaskStore.open` fails, :func:`refusal` looks at what is there instead (a
file, an empty folder, a folder without ``zarr.json``, a zarr array, a ``zarr.json`` that is no
JSON or no group's metadata) and says so in the user's words; :func:`array_damage` does the
same for an array of a store whose metadata zarr cannot read. :func:`not_replaceable` says why
a new store may not replace what is there (anything but an ecoseg store, even with overwrite).
"""

from __future__ import annotations

import json
import re
import zipfile

from ecoseg.store._util import short_error
from ecoseg.store.embeddings import EMBEDDINGS_KEY
from ecoseg.store.layout import ARRAYS, ATTRS_KEY
from ecoseg.store.location import Location

__all__ = [
    "array_damage",
    "array_file",
    "expected_shape",
    "not_replaceable",
    "plain_error",
    "refusal",
]

#: What a mask store holds at its top: its metadata, arrays, embeddings and the review edits'
#: backups (``ecoseg.species``); a group without ecoseg's attributes that holds nothing else,
#: and whose arrays carry ecoseg's signature (:func:`_signed`), is a store whose making or
#: metadata broke off, which overwrite replaces.
_OURS = frozenset({"zarr.json", *ARRAYS, EMBEDDINGS_KEY, "edits"})

#: What a mask store is, for the end of a refusal.
EXPECTED = "expected a store: a folder with zarr.json, or a .zip of one"

_STORE_REPR = re.compile(r"(?:\s+in store)?\s*\b\w*Store\((?:'[^']*'|\"[^\"]*\"|[^)])*\)")
_URL_FILE = re.compile(r"\bfile://")


def plain_error(exc: BaseException) -> str:
    """:func:`~ecoseg.store._util.short_error` without zarr's store reprs and ``file://``.

    Examples
    --------
    >>> plain_error(FileNotFoundError("No group found in store LocalStore('file://a') at path ''"))
    "No group found at path ''"
    """
    text = _URL_FILE.sub("", _STORE_REPR.sub("", short_error(exc)))
    return " ".join(text.split())


def _node(raw: bytes | None) -> str | None:
    """What ``zarr.json``'s bytes say is there; None for a zarr v3 group (or no file)."""
    if raw is None:
        return None
    if not raw.strip():
        return "a damaged store: its zarr.json is empty"
    try:
        meta = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno} column {exc.colno})" if hasattr(exc, "lineno") else ""
        return f"a damaged store: its zarr.json is not valid JSON{where}"
    if not isinstance(meta, dict):
        kind = {list: "list", str: "string", bool: "true or false", type(None): "null"}
        held = kind.get(type(meta), "number")
        return f"a damaged store: its zarr.json holds a JSON {held}, not an object"
    node, version = meta.get("node_type"), meta.get("zarr_format")
    if version == 3 and node == "array":
        return "a zarr array, not a mask store (a mask store is a zarr group of arrays)"
    if version != 3 or node != "group":
        return (
            f"a damaged store: its zarr.json is not a zarr v3 group's metadata "
            f"(zarr_format {version!r}, node_type {node!r})"
        )
    return None


def _read(loc: Location, key: str) -> bytes | None:
    """The bytes of the file ``key`` (``"zarr.json"``, ``"labels/zarr.json"``) in the store at
    ``loc``, or None where there is none."""
    if loc.is_zip:
        with zipfile.ZipFile(loc.local) as zf:
            return zf.read(key) if key in zf.namelist() else None
    if loc.local is not None:
        path = loc.local / key
        return path.read_bytes() if path.is_file() else None
    if loc.obj is not None:
        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync

        buf = sync(loc.obj.get(key, default_buffer_prototype()))
        return None if buf is None else buf.to_bytes()
    fs, root = loc.filesystem()
    path = f"{root.rstrip('/')}/{key}"
    return fs.cat_file(path) if fs.isfile(path) else None


def _members(loc: Location) -> set[str]:
    """The names directly inside the store at ``loc`` (``zarr.json``, its arrays' folders),
    without hidden files and the temporary ``.partial`` files of a killed write."""
    if loc.is_zip:
        with zipfile.ZipFile(loc.local) as zf:
            names = {n.split("/", 1)[0] for n in zf.namelist()}
    elif loc.local is not None:
        names = {p.name for p in loc.local.iterdir()}
    elif loc.obj is not None:
        from zarr.core.sync import sync

        async def listed() -> set[str]:
            return {n async for n in loc.obj.list_dir("")}

        names = sync(listed())
    else:
        fs, root = loc.filesystem()
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)}
    return {n for n in names if not n.startswith(".") and not n.endswith(".partial")}


def _zip_cut_off(path) -> bool:
    """Whether the file ``path``, which zipfile does not read, starts as a zip archive does
    (a local file header): a zip store cut off, not some other file named .zip."""
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _look(loc: Location) -> tuple[str | None, bytes | None]:
    """(what is there when it is no folder-like store, the bytes of its ``zarr.json``)."""
    if loc.is_zip:
        if not loc.local.is_file() or not zipfile.is_zipfile(loc.local):
            if _zip_cut_off(loc.local):
                return (
                    "a damaged zip archive: it begins as one but its end, the central directory "
                    "listing its files, is missing or unreadable (a copy or download cut off?); "
                    "copy it again from where it came"
                ), None
            what = (
                "a folder named .zip" if loc.local.is_dir() else "a file that is not a zip archive"
            )
            return f"{what}, not a mask store ({EXPECTED})", None
        raw = _read(loc, "zarr.json")
        if raw is None:
            return f"a zip archive without zarr.json, not a mask store ({EXPECTED})", None
        return None, raw
    if loc.local is not None:
        if not loc.local.is_dir():
            from ecoseg.io.folder import VIDEO_SUFFIXES

            if loc.local.suffix.lower() in VIDEO_SUFFIXES:  # the video, given for its masks
                return "a video, not a mask store (`ecoseg segment` makes one from it)", None
            return f"a file, not a mask store ({EXPECTED})", None
        meta = loc.local / "zarr.json"
        if meta.is_file():
            return None, meta.read_bytes()
        if not any(loc.local.iterdir()):
            return f"an empty folder, not a mask store ({EXPECTED})", None
        if (loc.local / ".zarray").is_file():
            return "a zarr v2 array, not a mask store (ecoseg stores are zarr v3 groups)", None
        note = loc.stores_inside_note()
        return f"a folder without zarr.json, not a mask store ({EXPECTED}){note}", None
    if loc.obj is not None:
        raw = _read(loc, "zarr.json")
        if raw is None:
            return f"a zarr store without zarr.json, not a mask store ({EXPECTED})", None
        return None, raw
    fs, root = loc.filesystem()
    if fs.isfile(root):
        return f"a file, not a mask store ({EXPECTED})", None
    meta = f"{root.rstrip('/')}/zarr.json"
    if not fs.exists(meta):
        return f"a folder without zarr.json, not a mask store ({EXPECTED})", None
    return None, fs.cat_file(meta)


def refusal(loc: Location, exc: BaseException | None = None) -> str:
    """The one-line reason the thing at ``loc`` (which exists) did not open as a zarr group.

    It names ``loc`` and says what is there and what a mask store is; ``exc`` (zarr's error)
    (zarr's error, if any) is quoted, without zarr's internals, only where nothing more is
    found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> notes = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = notes.write_text("hello")
    >>> print(refusal(Location(notes), FileNotFoundError("No group found")).split(": ", 1)[1])
    a file, not a mask store (expected a store: a folder with zarr.json, or a .zip of one)
    """
    try:
        what, raw = _look(loc)
        what = what or _node(raw)
    except Exception:  # looking failed too (a URL gone away): zarr's words, cleaned
        what = None
    if what is None:
        why = f" ({plain_error(exc)})" if exc is not None else ""
        what = f"cannot be opened as a zarr group{why}"
    return f"{loc}: {what}"


def _json(raw: bytes) -> tuple[object, str | None]:
    """(the JSON value of a metadata file, or why it has none: empty, not valid JSON)."""
    if not raw.strip():
        return None, "empty"
    try:
        return json.loads(raw), None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, "not valid JSON"


def _foreign(loc: Location) -> str | None:
    """What the zarr store at ``loc`` is when another tool made it (``"a zarr group"``), or
    None for an ecoseg store: its group has ecoseg's attributes, or (a run killed while it was
    made, or its ``zarr.json`` damaged) no attributes and nothing but ecoseg's arrays in it
    (:func:`_broken_off`)."""
    raw = _read(loc, "zarr.json")
    if raw is None:  # a zarr v2 group, a zip archive of other things
        if loc.is_zip:
            return "a zip archive"
        return "a zarr v2 group" if _read(loc, ".zgroup") is not None else "a zarr store"
    meta, _ = _json(raw)
    if isinstance(meta, dict):
        node, version = meta.get("node_type"), meta.get("zarr_format")
        if node == "array":
            return "a zarr array"
        attrs = meta.get("attributes") or {}
        if node == "group" and version == 3 and isinstance(attrs, dict) and ATTRS_KEY in attrs:
            return None
        if attrs:
            return "a zarr group"
    members = _members(loc)
    if members <= _OURS and _broken_off(loc, members):
        return None
    return "a zarr group"


def _signed(meta: object, name: str) -> bool:
    """Whether an array's metadata (``meta``, its ``zarr.json`` read as JSON) carries what
    every ecoseg version writes into the array ``name`` (``labels``, ``time``, ``scores``):
    its data type, dimension names and ``units`` attribute (:data:`~ecoseg.store.layout.ARRAYS`).
    Chunk shapes and codec settings differ between versions and runs, so they are not looked at.

    Examples
    --------
    >>> _signed({"node_type": "array", "data_type": "float64", "dimension_names": ["t"],
    ...          "attributes": {"units": "s"}}, "time")
    True
    >>> _signed({"node_type": "array", "data_type": "uint8", "dimension_names": None,
    ...          "attributes": {}}, "labels")
    False
    """
    if not isinstance(meta, dict) or meta.get("node_type") != "array":
        return False
    dtype, dims, units = ARRAYS[name]
    attrs = meta.get("attributes")
    return (
        meta.get("data_type") == dtype.name
        and meta.get("dimension_names") == list(dims)
        and isinstance(attrs, dict)
        and attrs.get("units") == units
    )


def _broken_off(loc: Location, members: set[str]) -> bool:
    """Whether a group without ecoseg's attributes holding only ``members`` (names of
    ``_OURS``) is an ecoseg store whose making or metadata broke off: nothing but its
    ``zarr.json`` (a run killed before the first array), or at least one of ``labels``,
    ``time``, ``scores`` carries ecoseg's signature (:func:`_signed`) and none of them is an
    array or group of another kind. Another tool's group whose arrays happen to be named so
    (``labels`` as uint8 images, a ``time`` without units) is not.

    An array whose ``zarr.json`` is missing, empty or not valid JSON says nothing either way:
    the group is still replaced when another of its arrays is ecoseg's (a store with a damaged
    array), and refused when none is (nothing shows that ecoseg made it).
    """
    signed = False
    for name in sorted(members & ARRAYS.keys()):
        raw = _read(loc, f"{name}/zarr.json")
        if raw is None:
            continue
        meta, why = _json(raw)
        if why is not None:
            continue
        if not _signed(meta, name):
            return False
        signed = True
    return signed or members <= {"zarr.json"}


def not_replaceable(loc: Location) -> str | None:
    """Why the thing at ``loc`` is never replaced by a new store (not even with overwrite), or
    None: nothing is there, or an ecoseg mask store is (overwrite replaces that). A zarr store
    another tool made (a group, an array) is someone's data: ecoseg leaves it alone.

    Examples
    --------
    >>> import tempfile, pathlib, zarr
    >>> notes = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = notes.write_text("hello")
    >>> print(not_replaceable(Location(notes)).split(": ", 1)[1])
    exists and is not a zarr store (a file); refusing to replace it even with overwrite \
(choose another output path)
    >>> not_replaceable(Location(notes.parent / "new.zarr")) is None
    True
    >>> zarr.open_group(notes.parent / "other.zarr").attrs["site"] = "north"
    >>> print(not_replaceable(Location(notes.parent / "other.zarr")).split(": ", 1)[1])
    a zarr group that is not an ecoseg mask store; ecoseg will not overwrite it (remove it \
yourself or choose another output path)
    """
    if not loc.exists():
        return None
    if loc.is_zarr():
        try:
            what = _foreign(loc)
        except (OSError, ValueError, zipfile.BadZipFile):  # looking failed (a URL gone away,
            # a damaged zip): the write will say why
            what = None
        if what is None:
            return None
        return (
            f"{loc}: {what} that is not an ecoseg mask store; ecoseg will not overwrite it "
            "(remove it yourself or choose another output path)"
        )
    kind = ""
    if loc.local is not None:
        folder = loc.local.is_dir()
        empty = folder and not any(loc.local.iterdir())
        kind = " (an empty folder)" if empty else " (a folder)" if folder else " (a file)"
    return (
        f"{loc}: exists and is not a zarr store{kind}; refusing to replace it even with "
        "overwrite (choose another output path)"
    )


def _array_fault(raw: bytes, ndim: int) -> str | None:
    """What is wrong with an array's ``zarr.json`` (``raw``) that zarr refused, in the user's
    words, or None where nothing is found (an unknown codec: zarr's words then)."""
    meta, why = _json(raw)
    if why is not None:
        return why
    if not isinstance(meta, dict):
        return "not a JSON object"
    if meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
        return (
            f"not a zarr v3 array's metadata: zarr_format {meta.get('zarr_format')!r}, "
            f"node_type {meta.get('node_type')!r}"
        )
    for key in ("shape", "data_type", "chunk_grid", "chunk_key_encoding", "codecs"):
        if key not in meta:
            return f"no {key!r}"

    def counts(value, least: int) -> bool:
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= least for v in value
        )

    shape = meta["shape"]
    if not counts(shape, 0) or len(shape) != ndim:
        return f"shape {shape!r}: {expected_shape(ndim, 0)}"
    grid = meta["chunk_grid"]
    chunks = grid.get("configuration", {}).get("chunk_shape") if isinstance(grid, dict) else None
    if not counts(chunks, 1) or len(chunks) != ndim:
        return f"chunk shape {chunks!r}: {expected_shape(ndim, 1)}"
    return None


def expected_shape(ndim: int, least: int) -> str:
    """What a shape (``least`` 0) or chunk shape (``least`` 1) of ``ndim`` dimensions holds.

    Examples
    --------
    >>> expected_shape(1, 0), expected_shape(3, 1)
    ('expected 1 whole number, 0 or more', 'expected 3 whole numbers, 1 or more')
    """
    return f"expected {ndim} whole number{'s' * (ndim != 1)}, {least} or more"


def array_file(loc: Location, name: str) -> str:
    """How a refusal names the metadata file of the array ``name`` of the store at ``loc``.

    Examples
    --------
    >>> array_file(Location("survey/reef.zarr"), "labels")
    'survey/reef.zarr/labels/zarr.json'
    """
    return f"{str(loc).rstrip('/')}/{name}/zarr.json"


def array_damage(loc: Location, name: str, ndim: int, exc: BaseException) -> str:
    """The one-line reason the array ``name`` (of ``ndim`` dimensions) of the store at ``loc``
    did not open (zarr raised ``exc``): its metadata file named, and what is wrong with it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = pathlib.Path(tempfile.mkdtemp()) / "reef.zarr"
    >>> (store / "labels").mkdir(parents=True)
    >>> _ = (store / "labels" / "zarr.json").write_text("{")
    >>> print(array_damage(Location(store), "labels", 3, ValueError("Expecting value")))
    ... # doctest: +ELLIPSIS
    /.../reef.zarr/labels/zarr.json: damaged (not valid JSON)
    """
    try:
        raw = _read(loc, f"{name}/zarr.json")
    except Exception:  # looking failed too (a URL gone away): zarr's words, cleaned
        raw, why = b"", None
    else:
        if raw is None:
            return f"{loc}: the store has no '{name}' array"
        why = _array_fault(raw, ndim)
    if why is None:
        return f"{loc}: the '{name}' array cannot be opened ({plain_error(exc)})"
    return f"{array_file(loc, name)}: damaged ({why})"
