"""The names, paths and facts the README and docs/ show are what the project has.

- every ``ecoseg.x.y`` name an inline code span shows is a module or an attribute ecoseg has,
  and every path of the project it shows (``store/commit.py``, ``tests/...``,
  ``benchmarks/...``) is there, and so is every Python file it names alone (``figures.py``);
- the README's layout and docs/architecture.md map every subpackage and module;
  docs/reliability.md's bad-input count is the suite's;
- the pages that show what the code makes agree with it: docs/tables.md's columns and units
  with ``ecoseg.measure``'s tables, the settings tables of classical.md, discovery.md and
  concepts.md with their dataclasses' defaults, and docs/formats.md's examples with what
  ``ecoseg.export`` writes.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from page_helpers import PAGES, ROOT, code_blocks


def inline_spans(path: Path) -> list[tuple[int, str]]:
    """``(line, text)`` of every inline code span of a Markdown page, code blocks left out."""
    found: list[tuple[int, str]] = []
    fence = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fence = not fence
        elif not fence:
            found.extend((number, span) for span in re.findall(r"`([^`]+)`", line))
    return found


_DOTTED = re.compile(r"(?<![\w./-])ecoseg(?:\.[A-Za-z_]\w*)+")


def unknown_name(name: str) -> str | None:
    """Why ``ecoseg.a.b.c`` names nothing ecoseg has, else None: its longest prefix that is a
    module (found, not imported when the name ends there: ``ecoseg.napari._review``), then
    attributes of that module (lazy names resolve: ``ecoseg.segment``)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        module = ".".join(parts[:end])
        try:
            if importlib.util.find_spec(module) is not None:
                break
        except ModuleNotFoundError:  # a prefix is a class or function, not a package
            continue
    if end == len(parts):
        return None
    value = importlib.import_module(module)
    for attr in parts[end:]:
        if not hasattr(value, attr):
            return f"{module} has no {'.'.join(parts[end:])}"
        value = getattr(value, attr)
    return None


def unknown_names(path: Path) -> list[str]:
    """The ``ecoseg.x.y`` names of a page's inline code that name nothing, with the reason."""
    return [
        f"{path.name}:{line}: {name}: {why}"
        for line, span in inline_spans(path)
        for name in _DOTTED.findall(span)
        if (why := unknown_name(name))
    ]


# the top folders of the project; a path may also start at a package of ecoseg (`store/...`)
PROJECT_FOLDERS = ("ecoseg", "tests", "benchmarks", "data", "docs", "notebooks", "model")
_PATH = re.compile(r"(?<![\w./<-])((?:[\w-]+/)+[\w.-]*)")


def missing_paths(path: Path, root: Path = ROOT) -> list[str]:
    """The project paths a page's inline code names that are not there. A path counts when it
    starts at a top folder of the project or at an ecoseg package (``store/commit.py``);
    ``engine/_runtime.prefetch`` names an attribute of ``engine/_runtime.py``. Other paths
    (``OUT/<video>.zarr``, ``tables/``) are the user's."""
    missing = []
    for line, span in inline_spans(path):
        for token in _PATH.findall(span):
            first = token.split("/")[0]
            if first in PROJECT_FOLDERS:
                base = root
            elif (root / "ecoseg" / first / "__init__.py").is_file():
                base = root / "ecoseg"
            else:
                continue
            stem, dot, _ = token.rpartition(".")
            if not (base / token).exists() and not (dot and (base / f"{stem}.py").is_file()):
                missing.append(f"{path.name}:{line}: {token}")
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_ecoseg_name_a_page_shows_exists(page):
    assert not unknown_names(page), unknown_names(page)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_project_path_a_page_shows_exists(page):
    assert not missing_paths(page), missing_paths(page)


def test_a_wrong_name_or_path_is_caught(tmp_path):
    """The name and path checks are not blind: a renamed function, a typo, a module moved away
    are reported; modules, lazy names, attributes of a module path and the user's paths pass."""
    (tmp_path / "ecoseg" / "store").mkdir(parents=True)
    for name in ("store/__init__.py", "store/commit.py"):
        (tmp_path / "ecoseg" / name).write_text("")
    page = tmp_path / "page.md"
    page.write_text(
        "`ecoseg.store.MaskStore.craete`, `ecoseg.segmnet`, `ecoseg.napari._review`,\n"
        "`ecoseg.segment(video)`, `ecoseg.store.commit`; `store/commit.py`, `store/lock.py`,\n"
        "`store/commit.ChunkCommitter`, `ecoseg/store/`, `tests/gone.py`, `OUT/<video>.zarr`\n"
        "```\necoseg.in_a_block store/in_a_block.py\n```\n",
        encoding="utf-8",
    )
    assert unknown_names(page) == [
        "page.md:1: ecoseg.store.MaskStore.craete: ecoseg.store has no MaskStore.craete",
        "page.md:1: ecoseg.segmnet: ecoseg has no segmnet",
    ]
    assert missing_paths(page, tmp_path) == ["page.md:2: store/lock.py", "page.md:3: tests/gone.py"]


def _layout_row(name: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return next(line for line in readme.splitlines() if line.startswith(f"| `{name}/` |"))


def test_the_readme_layout_names_every_subpackage_and_links_every_page():
    package = _layout_row("ecoseg")
    for folder in sorted((ROOT / "ecoseg").iterdir()):
        if (folder / "__init__.py").is_file():
            assert f"`{folder.name}/`" in package, f"README's layout misses ecoseg/{folder.name}/"
    pages = _layout_row("docs")
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in pages, f"README's layout links no docs/{page.name}"


def unmapped_modules(text: str, package: Path) -> list[str]:
    """The modules of ``package`` (``__init__`` aside) a map page does not name: a module is
    named by its path (``store/commit.py``, ``store/commit``) or, on a line that names its
    package (``store/``), by its name (``commit`` or ``commit.py``); one of the top level by
    its name alone (``cli``, ``_paths.py``)."""
    lines = text.splitlines()
    missing = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        *folders, name = path.relative_to(package).with_suffix("").parts
        pkg = "/".join(folders)
        named = re.compile(rf"`{re.escape(name)}(?:\.py)?`")
        if not pkg:
            found = bool(named.search(text))
        else:
            found = f"{pkg}/{name}.py" in text or f"`{pkg}/{name}`" in text
            found = found or any(f"`{pkg}/" in line and named.search(line) for line in lines)
        if not found:
            missing.append(path.relative_to(package).as_posix())
    return missing


def test_the_architecture_map_names_every_module():
    """docs/architecture.md is where a newcomer looks a module up: every one is on it."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = unmapped_modules(text, ROOT / "ecoseg")
    assert not missing, f"docs/architecture.md does not name {missing}: add them to its map"


def test_the_store_page_maps_every_store_module():
    text = (ROOT / "docs" / "store.md").read_text(encoding="utf-8")
    rows = "\n".join(line for line in text.splitlines() if line.startswith("| `"))
    missing = [
        path.name
        for path in sorted((ROOT / "ecoseg" / "store").glob("*.py"))
        if path.name != "__init__.py" and f"| `{path.name}` |" not in rows
    ]
    assert not missing, f"docs/store.md's package map has no row for {missing}"


def test_an_unmapped_module_is_caught(tmp_path):
    """The map check is not blind: a module the text does not name is reported."""
    (tmp_path / "store").mkdir()
    for name in ("cli.py", "store/__init__.py", "store/commit.py", "store/lock.py"):
        (tmp_path / name).write_text("")
    text = "`cli.py`; `store/` (`commit`)\nthe `lock` of another package"
    assert unmapped_modules(text, tmp_path) == ["store/lock.py"]


def test_the_bad_input_count_in_reliability_md_is_the_suites():
    """docs/reliability.md states how many bad-input cases the suite has; it is counted."""
    said = re.search(
        r"Count \(`(pytest [^`]+)`\): (\d+) bad-input cases",
        (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8"),
    )
    assert said, "docs/reliability.md no longer states the bad-input count"
    command = [sys.executable, "-m", *said.group(1).split(), "-p", "no:randomly"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    counted = re.search(r"^(\d+)(?:/\d+)? tests? collected", done.stdout, re.M)
    assert counted, done.stdout[-500:] + done.stderr[-500:]
    assert int(said.group(2)) == int(counted.group(1)), (
        f"docs/reliability.md says {said.group(2)} bad-input cases; the suite has "
        f"{counted.group(1)}: update the count"
    )


def documented_columns(text: str) -> dict[str, dict[str, str]]:
    """``{table: {column: unit}}`` of the column tables of docs/tables.md: the rows of the
    table under each ``## NAME — ...`` heading whose first cell names columns in backticks
    (several: ``\\`a\\`, \\`b\\```); a unit of ``""`` where the row gives none, and a row that
    refers back (``as in regions``) names its columns only."""
    tables: dict[str, dict[str, str]] = {}
    table = None
    for line in text.splitlines():
        heading = re.match(r"## (\w+) —", line)
        if heading:
            table = tables.setdefault(heading.group(1), {})
        elif line.startswith("## "):
            table = None
        elif table is not None and line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            unit = cells[1].replace("²", "^2") if len(cells) > 2 else ""
            for column in re.findall(r"`([^`]+)`", cells[0]):
                table[column] = unit
    return tables


def test_tables_md_shows_the_columns_and_units_measure_writes(tmp_path):
    """docs/tables.md's column tables are what ``ecoseg.measure`` writes for a calibrated
    store: the same columns, and the unit it gives each (``attrs["units"]``), so a column
    renamed or added in ``ecoseg/measure`` shows here until the page says so."""
    import ecoseg

    clip = ecoseg.synth(tmp_path / "clip", seed=3, frames=4, size=(96, 64), n_fish=2)
    written = ecoseg.measure(clip.truth, formats=())  # a synthetic truth is calibrated
    shown = documented_columns((ROOT / "docs" / "tables.md").read_text(encoding="utf-8"))
    assert sorted(shown) == sorted(written), "docs/tables.md has a section per table"
    for name, df in written.items():
        assert sorted(shown[name]) == sorted(df.columns), (
            f"docs/tables.md's {name} columns differ from measure's: "
            f"only on the page {sorted(set(shown[name]) - set(df.columns))}, "
            f"only in the table {sorted(set(df.columns) - set(shown[name]))}"
        )
        wrong = {
            column: (unit, df.attrs["units"][column])
            for column, unit in shown[name].items()
            if unit and unit != df.attrs["units"][column]
        }
        assert not wrong, f"docs/tables.md's {name} units (page, table) differ: {wrong}"


def test_a_wrong_column_in_tables_md_is_caught():
    text = "## maxn — one row per class\n\n| `class` | | class |\n| `maxn`, `frame` | index | x |\n"
    assert documented_columns(text) == {"maxn": {"class": "", "maxn": "index", "frame": "index"}}


def documented_defaults(text: str) -> dict[str, str]:
    """``{name: default}`` of the settings tables of a page (those whose header reads
    ``| name/key/setting | default | ...``): a row may name several settings in backticks with
    as many defaults, comma-separated (``| `a`, `b` | 1, 2 |``); ``keep_alive_init/max/min``
    names three."""
    shown: dict[str, str] = {}
    in_table = False
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            in_table = False
        elif len(cells) > 1 and cells[0] in ("name", "key", "setting") and cells[1] == "default":
            in_table = True
        elif in_table and cells[0].startswith("`"):
            names = []
            for name in re.findall(r"`([^`]+)`", cells[0]):
                head, *tails = name.split("/")
                names += [head] + [head.rsplit("_", 1)[0] + "_" + tail for tail in tails]
            values = [value.strip() for value in cells[1].split(",")]
            if len(values) != len(names):
                values = [cells[1]] * len(names)
            shown.update(zip(names, values))
    return shown


def _literal(text: str) -> object:
    """A default as a page writes it, as Python (``True``, ``0.5``, ``[]``), else the text."""
    try:
        return yaml.safe_load(text.replace("True", "true").replace("False", "false"))
    except yaml.YAMLError:
        return text


SETTINGS_TABLES = [
    ("classical.md", "ecoseg.engine.classical", "ClassicalParams"),
    ("discovery.md", "ecoseg.engine.discovery", "DiscoveryParams"),
    ("concepts.md", "ecoseg.engine.concept_rules", "ConceptSettings"),
]


@pytest.mark.parametrize(("page", "module", "name"), SETTINGS_TABLES, ids=lambda v: str(v))
def test_each_settings_table_shows_the_dataclass_defaults(page, module, name):
    """The defaults a settings table shows are the dataclass's (a value the page states in
    words, as ``2 % of the diagonal``, is not compared), and each name is one of its fields."""
    import dataclasses

    fields = {
        field.name: field
        for field in dataclasses.fields(getattr(importlib.import_module(module), name))
    }
    shown = documented_defaults((ROOT / "docs" / page).read_text(encoding="utf-8"))
    assert shown, f"docs/{page} shows no settings table"
    unknown = sorted(set(shown) - set(fields))
    assert not unknown, f"docs/{page} shows settings {name} does not have: {unknown}"
    wrong = {}
    for key, text in shown.items():
        field = fields[key]
        default = (
            field.default if field.default is not dataclasses.MISSING else field.default_factory()
        )
        value = _literal(text)
        if isinstance(value, (bool, int, float, list, dict)) or value is None:
            if isinstance(default, tuple):
                default = list(default)
            if value != default or type(value) is bool is not type(default):
                wrong[key] = (text, default)
    assert not wrong, f"docs/{page}'s defaults (page, code) differ from {name}'s: {wrong}"


def test_a_wrong_default_in_a_settings_table_is_caught():
    text = (
        "| name | default | meaning |\n| --- | --- | --- |\n| `a`, `b` | 1, [] | x |\n"
        "| `keep_alive_init/max` | 30, 2 % | y |\n\n| `c` | 3 | not a settings table |\n"
    )
    assert documented_defaults(text) == {
        "a": "1",
        "b": "[]",
        "keep_alive_init": "30",
        "keep_alive_max": "2 %",
    }
    assert [_literal(v) for v in ("1", "[]", "True", "0.02 % of frame")] == [
        1,
        [],
        True,
        "0.02 % of frame",
    ]


# files of other projects the pages cite by name (Meta's SAM 3, TrackEval, davis2017-evaluation)
FOREIGN_FILES = {"vitdet.py", "clear.py", "identity.py", "j_and_f.py", "mots_challenge.py"}
FOREIGN_FILES |= {"_base_dataset.py"}
_FILE = re.compile(r"^[\w-]+\.py$")


def missing_files(path: Path, root: Path = ROOT) -> list[str]:
    """The Python files a page names without a folder (an inline span that is just
    ``figures.py``) that are nowhere in the project: a module renamed, split into a package or
    deleted while the page still sends the reader to it."""
    present = {file.name for folder in PROJECT_FOLDERS for file in (root / folder).rglob("*.py")}
    return [
        f"{path.name}:{line}: {span}"
        for line, span in inline_spans(path)
        if _FILE.match(span) and span not in present and span not in FOREIGN_FILES
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_python_file_a_page_names_exists(page):
    assert not missing_files(page), missing_files(page)


def test_a_python_file_that_is_gone_is_caught(tmp_path):
    (tmp_path / "ecoseg").mkdir()
    (tmp_path / "ecoseg" / "stills.py").write_text("")
    page = tmp_path / "page.md"
    page.write_text("figures in `figures.py`, stills in `stills.py`, `vitdet.py` is Meta's\n")
    assert missing_files(page, tmp_path) == ["page.md:1: figures.py"]


def _keys_by_level(document: dict) -> dict[str, set[str]]:
    """The keys of each list of records of an exported JSON document (``images``,
    ``annotations``, ...), the union over its records, and of the top level."""
    keys = {"": set(document)}
    for name, value in document.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            keys[name] = set().union(*(set(record) for record in value))
    return keys


def _tags(xml: str) -> dict[str, set[str]]:
    """The attribute names of each tag of an XML text, and the names of its ``<attribute>``s."""
    tags: dict[str, set[str]] = {}
    for tag, attributes in re.findall(r"<(\w+)((?:\s+\w+=\"[^\"]*\")*)", xml):
        tags.setdefault(tag, set()).update(re.findall(r"(\w+)=", attributes))
    tags["attribute names"] = set(re.findall(r"<attribute name=\"(\w+)\"", xml))
    return tags


def test_formats_md_examples_show_what_export_writes(tmp_path):
    """docs/formats.md's "Examples of each format" are export's: the JSON examples' records
    have the keys export writes (the top level may leave out ``info``, ``licenses``), the CVAT
    example's tags the attributes, the text examples the columns."""
    import ecoseg

    page = ROOT / "docs" / "formats.md"
    clip = ecoseg.synth(tmp_path / "clip", seed=3, frames=3, size=(96, 64), n_fish=2)
    written = {
        name: Path(ecoseg.export(clip.truth, name, tmp_path / f"out.{name}")).read_text("utf-8")
        for name in ("coco", "ytvis", "mot", "mots", "cvat")
    }
    out = ecoseg.export(clip.truth, "viame", tmp_path / "out.csv", polygons=True)
    written["viame"] = Path(out).read_text("utf-8")
    coco, ytvis = (json.loads(text) for _, text in code_blocks(page, "json")[-2:])
    for shown, name in ((coco, "coco"), (ytvis, "ytvis")):
        real = _keys_by_level(json.loads(written[name]))
        for level, keys in _keys_by_level(shown).items():
            extra = {"info", "licenses"} if level == "" else set()
            assert keys == real[level] - extra, (
                f"docs/formats.md's {name} example, {level or 'top'}"
            )
    (xml,) = (text for _, text in code_blocks(page, "xml"))
    real = _tags(written["cvat"])
    for tag, names in _tags(xml).items():
        assert names == real[tag], (
            f"docs/formats.md's CVAT example: <{tag}> has {names}, export {real[tag]}"
        )
    mot, mots, viame = (text.splitlines() for _, text in code_blocks(page, "text")[-3:])
    for shown, name, sep in ((mot, "mot", ","), (mots, "mots", " "), (viame, "viame", ",")):
        rows = written[name].splitlines()
        header = [line for line in shown if line.startswith("#")]
        for line, row in zip(header, rows):  # VIAME's comment lines, the first cut at "..."
            assert row.startswith(line.removesuffix("...")), f"docs/formats.md's {name}: {line}"
        columns = len(rows[len(header)].split(sep))
        assert len(shown[-1].split(sep)) == columns, f"docs/formats.md's {name}: {shown[-1]}"


def _python_outputs(source: str) -> set[str]:
    """The files a Python example writes: the path of ``export(store, format, PATH)`` and
    ``import_annotations(file, format, video, PATH)``, and ``out=PATH``."""
    outputs = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        where = {"export": 2, "import_annotations": 3}.get(name)
        if where is not None and len(node.args) > where:
            outputs.add(ast.literal_eval(node.args[where]))
        outputs |= {ast.literal_eval(k.value) for k in node.keywords if k.arg == "out"}
    return outputs


def test_formats_md_first_examples_run_one_after_the_other():
    """The opening commands and Python lines of docs/formats.md write other files: run in
    one folder, the Python lines were refused (``masks.json: already exists``), as they wrote
    the commands' masks.json, truth.zarr and tracks.zarr again."""
    page = ROOT / "docs" / "formats.md"
    (_, shell), *_ = code_blocks(page, "bash")
    (_, python), *_ = code_blocks(page, "python")
    commands = set(re.findall(r"-o (\S+)", shell))
    written = _python_outputs(python)
    assert len(commands) == 3 and len(written) == 3, (commands, written)
    assert not commands & written, commands & written
