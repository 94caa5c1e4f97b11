"""Where in a study file: the line of every key and list item, so that each refusal of
:func:`ecoseg.study.config.load_study` names the line to look at (``study.yaml: line 7:``), and
the file read so that a value YAML cannot build is named with its line too (:func:`read_yaml`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ValueNotRead", "at_line", "key_line", "key_lines", "read_yaml", "yaml_where"]

# what a scalar of these types YAML resolves but cannot build raises: `2023-13-45`
# (ValueError), `!!bool maybe` (KeyError), `!!timestamp soon` (AttributeError), `!!int x`
_BUILD_ERRORS = (ValueError, KeyError, AttributeError, TypeError, OverflowError)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BUILT = {f"tag:yaml.org,2002:{kind}" for kind in ("timestamp", "int", "float", "bool")}


def read_yaml(text: str) -> Any:
    """The data of a study file's ``text``, as ``yaml.safe_load`` reads it, except for values
    YAML resolves but cannot build, which it raised without a line (a ``ValueError`` of
    ``2023-13-45``): the value of a ``date:`` key is kept as its text, which the date check
    refuses with its line and video; any other is a :class:`ValueNotRead` with its line.

    Raises
    ------
    yaml.YAMLError
        The text is not YAML, or a tag would construct an object (a ``ConstructorError``).
    ValueNotRead
        A value that cannot be built, but a ``date:``'s.

    Examples
    --------
    >>> read_yaml("date: 2024-03-12\\nother: 2023-13-45x\\n")
    {'date': datetime.date(2024, 3, 12), 'other': '2023-13-45x'}
    >>> read_yaml("videos:\\n  - date: 2023-13-45\\n")
    {'videos': [{'date': '2023-13-45'}]}
    >>> read_yaml("videos:\\n  - notes: 2023-13-45\\n")
    Traceback (most recent call last):
    ...
    ecoseg.study._lines.ValueNotRead: '2023-13-45' is not a valid timestamp (month must be in \
1..12); write it in quotes to keep it as text
    """
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _build_scalars(loader, root, key=None)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _build_scalars(loader, node, key) -> None:
    """Build every scalar under ``node`` (``key``: the key it is the value of), in the order
    of the file, so that the first that cannot be built is named with its line."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _build_scalars(loader, k, None)
            _build_scalars(loader, v, k.value if isinstance(k, yaml.ScalarNode) else None)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _build_scalars(loader, item, None)
    elif isinstance(node, yaml.ScalarNode) and node.tag in _BUILT:  # (a merge key `<<` not)
        try:
            loader.construct_object(node)
        except _BUILD_ERRORS as exc:
            if key == "date" and node.tag == _TIMESTAMP:
                node.tag = "tag:yaml.org,2002:str"  # for the date check: its text, its line
                loader.recursive_objects.pop(node, None)
                return
            problem = f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}"
            mark = node.start_mark
            if node.tag == _TIMESTAMP and isinstance(exc, ValueError):
                problem += f" ({exc})"  # `month must be in 1..12`
            if (
                node.tag == _TIMESTAMP
                and (mark.buffer or "")[mark.pointer : mark.pointer + 1] != "!"
            ):
                problem += "; write it in quotes to keep it as text"  # (not after a `!!tag`)
            raise ValueNotRead(problem, mark.line + 1) from None


class ValueNotRead(ValueError):
    """A value of a study file that YAML resolves but cannot build, at ``line`` (1-based)."""

    def __init__(self, problem: str, line: int) -> None:
        super().__init__(problem)
        self.line = line


def key_line(entry: dict, defaults: dict, key: str) -> int | None:
    """The line of ``key`` in a video's entry, else in ``defaults:`` (none for ``""``)."""
    return entry.get(key, defaults.get(key)) if key else None


def key_lines(text: str) -> dict[tuple, dict[str | int, int]]:
    """The line of every mapping key, by the path of its mapping (``()``, ``("defaults",)``,
    ``("videos", 0)``, ...), and of every list item (by its index, under the list's path), so
    an error about a key, a value or a video is named with its line."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:  # pragma: no cover - read_yaml read the same text
        return {}
    lines: dict[tuple, dict[str | int, int]] = {}

    def walk(node, at: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            here = lines.setdefault(at, {})
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    here.setdefault(key.value, key.start_mark.line + 1)
                    walk(value, (*at, key.value))
        elif isinstance(node, yaml.SequenceNode):
            here = lines.setdefault(at, {})
            for i, value in enumerate(node.value):
                here.setdefault(i, value.start_mark.line + 1)
                walk(value, (*at, i))

    walk(root, ())
    return lines


def yaml_where(exc) -> str:
    """`` line N:`` of a YAML error's mark, or ``""`` when it has none."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f" line {mark.line + 1}:" if mark is not None else ""


def at_line(where: str, *lines: int | None) -> str:
    """``where`` and the first known line: ``"study.yaml: line 7:"`` (``"study.yaml:"``)."""
    line = next((n for n in lines if n is not None), None)
    return f"{where}: line {line}:" if line is not None else f"{where}:"
