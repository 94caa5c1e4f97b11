"""The commands and Python examples the README and docs/ show are ones ecoseg takes.

Checks over every Markdown page a user reads:

- every mention ``ecoseg WORD --option ...`` (in a code block or an inline code span) names a
  real subcommand and only options that subcommand has (a napari layer such as
  ``ecoseg masks`` is the one other thing ``ecoseg WORD`` may be);
- every whole command line in a code block parses with the CLI's own parser, once optional
  ``[...]`` parts and trailing comments are taken off, and the files of ``data/`` it names
  are there;
- every Python code block is valid Python whose ``ecoseg`` imports resolve, and each call of
  an ``ecoseg`` function or class it names fits that function's signature (argument count and
  keyword names). The examples use the user's own files, so they are not run;
- every study file shown (a YAML block with ``videos:``) uses only keys ``ecoseg study`` takes;
- every JSON block is JSON; prompt files load with :func:`ecoseg.prompts.load_prompts` and
  discovery settings with :class:`ecoseg.engine.discovery.DiscoveryParams`.

The names, paths and facts the pages show are checked in ``tests/test_docs_agree.py``.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from page_helpers import PAGES, ROOT, code_blocks

from ecoseg.cli import build_parser
from ecoseg.engine.discovery import DiscoveryParams
from ecoseg.errors import EcosegError
from ecoseg.prompts import load_prompts
from ecoseg.study.config import SETTING_KEYS, TOP_KEYS, VIDEO_KEYS

# a mention ends at a shell comment, a chain or a pipe (the README's tables escape
# alternatives as `a\|b`, which is not a pipe)
_END = re.compile(r"\s+#|\s*&&|\s*;|(?<!\\)\|\s")


@dataclass(frozen=True)
class Mention:
    """``ecoseg ...`` as a page shows it."""

    page: str
    line: int
    text: str
    whole: bool  # starts a shell line of a code block (else a fragment: an inline span, prose)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


# code blocks of these languages hold no shell lines (``from ecoseg import sam3`` is Python)
_NOT_SHELL = {"python", "json", "yaml", "xml"}
# what may precede a command on its shell line: nothing, variables, or a chain
_LEAD = re.compile(r"^(?:\$ )?(?:[A-Z_]+=\S* )*$|&&\s*$")


def mentions(path: Path) -> list[Mention]:
    """Every ``ecoseg WORD ...`` of a Markdown page, cut at comments and chains."""
    found: list[Mention] = []
    fence: str | None = None  # the language of the code block the line is in
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fence = None if fence is not None else line.strip("` ").lower()
            continue
        if fence in _NOT_SHELL:
            continue
        spans = [line] if fence is not None else re.findall(r"`([^`]*)`", line)
        for span in spans:
            for match in re.finditer(r"(?:^|(?<=[\s=(]))ecoseg\s+[a-z].*", span):
                text = _END.split(match.group(0))[0].strip()
                whole = fence is not None and bool(_LEAD.search(span[: match.start()]))
                found.append(Mention(path.name, number, text, whole))
    return found


ALL = [m for page in PAGES for m in mentions(page)]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the ecoseg parser has no subcommands")


PARSER = build_parser()
SUBCOMMANDS = _subparsers(PARSER)


def _layer_names() -> set[str]:
    """The napari layers the plugin names ``ecoseg ...`` (read from its source)."""
    names: set[str] = set()
    for source in (ROOT / "ecoseg" / "napari").glob("*.py"):
        names.update(re.findall(r'"ecoseg ([a-z ]+)"', source.read_text(encoding="utf-8")))
    return names


LAYERS = _layer_names()


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}


def _known_options(words: list[str]) -> set[str]:
    """The options of ``ecoseg WORD [ACTION]``: ``ecoseg weights download`` has its own, and a
    usage line's ``list\\|download`` has those of both."""
    parser = SUBCOMMANDS[words[1]]
    nested = next((a.choices for a in parser._actions if a.nargs == argparse.PARSER), {})
    actions = words[2].replace("\\|", "|").split("|") if len(words) > 2 else []
    parsers = [nested[a] for a in actions if a in nested] or [parser]
    return set().union(*map(_options, parsers), _options(PARSER))


def test_the_pages_show_commands_at_all():
    blocks = [m for m in ALL if m.whole]
    assert len(ALL) > 100 and len(blocks) > 25, (len(ALL), len(blocks))
    assert LAYERS >= {"masks", "boxes", "exemplars"}, LAYERS


@pytest.mark.parametrize("mention", ALL, ids=str)
def test_each_mention_names_a_real_subcommand_and_its_options(mention):
    words = mention.text.split()
    name = words[1]
    if name not in SUBCOMMANDS:
        layer = next((n for n in LAYERS if mention.text.startswith(f"ecoseg {n}")), None)
        assert layer is not None, f"{mention}: no subcommand or napari layer {name!r}"
        return
    known = _known_options(words)
    for word in words[2:]:
        option = word.strip("[]()").split("=")[0]
        if option.startswith("--"):
            assert option in known, f"{mention}: `ecoseg {name}` has no option {option}"


WHOLE = [m for m in ALL if m.whole and "..." not in m.text]


@pytest.mark.parametrize("mention", WHOLE, ids=str)
def test_each_command_line_of_a_code_block_parses(mention, capsys):
    line = re.sub(r"\s*\[[^\]]*\]", "", mention.text)  # optional parts, as usage shows them
    words = shlex.split(line)
    try:
        PARSER.parse_args(words[1:])
    except SystemExit as stop:
        assert not stop.code, f"{mention}: {capsys.readouterr().err.strip()}"
    for word in words:  # files the project ships (data/...) are there
        if word.startswith("data/"):
            assert (ROOT / word).exists(), f"{mention}: the project ships no {word}"


def test_a_wrong_option_in_a_page_is_caught(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text(
        "Run `ecoseg segment V -o m.zarr --no-such-option`.\n\n"
        "```bash\necoseg segment v.mp4 -o m.zarr --detect-every two  # a typo\n"
        "ecoseg study data/no-such-study.yaml\n```\n\n```\necoseg masks\n```\n"
    )
    inline, typo, study, layer = mentions(page)
    assert [m.whole for m in (inline, typo, study, layer)] == [False, True, True, True]
    assert typo.text == "ecoseg segment v.mp4 -o m.zarr --detect-every two"
    with pytest.raises(AssertionError, match="has no option --no-such-option"):
        test_each_mention_names_a_real_subcommand_and_its_options(inline)
    with pytest.raises(AssertionError, match="--detect-every: invalid"):
        test_each_command_line_of_a_code_block_parses(typo, capsys)
    with pytest.raises(AssertionError, match="ships no data/no-such-study.yaml"):
        test_each_command_line_of_a_code_block_parses(study, capsys)
    test_each_mention_names_a_real_subcommand_and_its_options(layer)  # a napari layer


EXAMPLES = [(page.name, line, text) for page in PAGES for line, text in code_blocks(page, "python")]


def _ecoseg_names(tree: ast.Module) -> dict[str, object]:
    """What an example's ``import ecoseg...`` and ``from ecoseg... import ...`` bind."""
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ecoseg":
                    module = importlib.import_module(alias.name)
                    root = importlib.import_module("ecoseg")
                    names[alias.asname or "ecoseg"] = module if alias.asname else root
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ecoseg":
            module = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(module, alias.name):
                    value = getattr(module, alias.name)
                else:  # a submodule: from ecoseg import sam3
                    value = importlib.import_module(f"{node.module}.{alias.name}")
                names[alias.asname or alias.name] = value
    return names


def _resolve(expr: ast.expr, names: dict[str, object]) -> object | None:
    """The ecoseg object ``expr`` names (``ecoseg.segment``, ``sam3.build``), else None."""
    if isinstance(expr, ast.Name):
        return names.get(expr.id)
    if not isinstance(expr, ast.Attribute):
        return None
    base = _resolve(expr.value, names)
    if base is None:
        return None
    if not hasattr(base, expr.attr) and inspect.ismodule(base):
        return importlib.import_module(f"{base.__name__}.{expr.attr}")
    assert hasattr(base, expr.attr), f"{base!r} has no attribute {expr.attr!r}"
    return getattr(base, expr.attr)


def check_example(text: str) -> int:
    """Check one Python example (see the module docstring); returns the calls checked."""
    tree = ast.parse(text)
    names = _ecoseg_names(tree)
    checked = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = _resolve(node.func, names)
        if target is None or not callable(target):
            continue
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            continue  # *args / **kwargs: nothing to count
        signature = inspect.signature(target)
        where = f"line {node.lineno}: {ast.unparse(node.func)}"
        try:
            signature.bind(*node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError as error:
            raise AssertionError(f"{where}: {error}") from None
        checked += 1
    return checked


def test_the_pages_show_python_examples_that_call_ecoseg():
    assert len(EXAMPLES) >= 15, len(EXAMPLES)
    assert sum(check_example(text) for *_, text in EXAMPLES) > 25


@pytest.mark.parametrize(("page", "line", "text"), EXAMPLES, ids=lambda v: str(v)[:40])
def test_each_python_example_imports_and_calls_what_ecoseg_has(page, line, text):
    try:
        check_example(text)
    except (AssertionError, ImportError, SyntaxError) as error:
        raise AssertionError(f"{page}:{line}: {error}") from None


def test_a_wrong_python_example_is_caught():
    assert check_example("import ecoseg\necoseg.segment('v.mp4', out='m.zarr')") == 1
    with pytest.raises(AssertionError, match="segment: .*'outt'"):
        check_example("import ecoseg\necoseg.segment('v.mp4', out='m', outt='m.zarr')")
    with pytest.raises(ImportError, match="segmnet"):
        check_example("import ecoseg\necoseg.segmnet('v.mp4')")
    with pytest.raises(AssertionError, match="no attribute 'craete'"):
        check_example("from ecoseg.store import MaskStore\nMaskStore.craete('m.zarr')")
    with pytest.raises(ImportError):
        check_example("from ecoseg.formats import no_such_reader")


STUDY_FILES = [
    (page.name, line, text)
    for page in PAGES
    for line, text in code_blocks(page, "yaml")
    if re.search(r"^videos:", text, re.M)
]


def check_study_keys(text: str) -> None:
    """A study file shown in the docs uses only keys ``ecoseg study`` takes, including the
    keys it shows commented out (``# concepts: [...]``) for the reader to switch on."""
    doc = yaml.safe_load(text)
    assert set(doc) <= set(TOP_KEYS), set(doc) - set(TOP_KEYS)
    assert set(doc.get("defaults") or {}) <= set(SETTING_KEYS)
    for video in doc["videos"]:
        assert set(video) <= set(VIDEO_KEYS), set(video) - set(VIDEO_KEYS)
    commented = re.findall(r"^\s*#\s*(?:- )?([a-z_]+):\s", text, re.M)
    assert set(commented) <= set(VIDEO_KEYS), set(commented) - set(VIDEO_KEYS)


@pytest.mark.parametrize(("page", "line", "text"), STUDY_FILES, ids=lambda v: str(v)[:40])
def test_each_study_file_shown_uses_keys_the_study_loader_takes(page, line, text):
    try:
        check_study_keys(text)
    except AssertionError as error:
        raise AssertionError(f"{page}:{line}: unknown study keys {error}") from None


def test_a_study_file_with_a_wrong_key_is_caught():
    assert STUDY_FILES, "docs/report.md shows no study file"
    check_study_keys("videos:\n  - path: a.mp4\n    # auto: true\n")
    with pytest.raises(AssertionError, match="depth"):
        check_study_keys("videos:\n  - path: a.mp4\n    depth: 3\n")
    with pytest.raises(AssertionError, match="detect_evry"):
        check_study_keys("defaults:\n  # detect_evry: 2\nvideos: [{path: a.mp4}]\n")


JSON_BLOCKS = [
    (page.name, line, text) for page in PAGES for line, text in code_blocks(page, "json")
]


def check_json(text: str, folder: Path) -> str:
    """A JSON block is JSON; a prompt file loads as one, discovery settings as those.
    Returns what the block was taken for."""
    data = json.loads(text)
    if "objects" in data or "concepts" in data:
        path = folder / "prompts.json"
        path.write_text(text, encoding="utf-8")
        load_prompts(path)
        return "prompts"
    if "key_interval" in data:
        DiscoveryParams.from_dict(data)
        return "discovery"
    return "json"


def test_the_pages_show_prompt_files_and_discovery_settings(tmp_path):
    kinds = [check_json(text, tmp_path) for *_, text in JSON_BLOCKS]
    assert kinds.count("prompts") >= 2 and "discovery" in kinds, kinds


@pytest.mark.parametrize(("page", "line", "text"), JSON_BLOCKS, ids=lambda v: str(v)[:40])
def test_each_json_block_is_json_and_loads_as_what_it_shows(page, line, text, tmp_path):
    try:
        check_json(text, tmp_path)
    except (ValueError, EcosegError) as error:
        raise AssertionError(f"{page}:{line}: {error}") from None


def test_a_wrong_prompt_file_or_setting_is_caught(tmp_path):
    """Refused for the typo itself: a prompt left with no points is refused for that too."""
    with pytest.raises(EcosegError, match=r"unknown prompt key\(s\) \['pionts'\]"):
        check_json(
            '{"objects": [{"id": 1, "prompts": [{"frame": 0, "pionts": [[1, 2]]}]}]}', tmp_path
        )
    with pytest.raises(EcosegError, match="unknown parameter 'end_afterr'"):
        check_json('{"key_interval": 30, "end_afterr": 15}', tmp_path)
