"""Where in a study file: the line of every key and list item, so that each refusal of
:func:`ecoseg.study.config.load_study` names the line to look at (``study.yaml: line 7:``)."""

from __future__ import annotations

__all__ = ["at_line", "key_line", "key_lines", "yaml_where"]


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
    except yaml.YAMLError:  # pragma: no cover - safe_load read the same text
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
