"""``ecoseg.prompts`` is public: every name it offers, its own or from the private module of
value checks, imports from it as before (the checks moving between private modules does not
change what a script imports)."""

from __future__ import annotations

import importlib

import pytest

# the names other modules, tests and scripts import from ecoseg.prompts
NAMES = (
    "Concept",
    "Exemplar",
    "FramePrompt",
    "ObjectPrompts",
    "Prompts",
    "check_concept_names",
    "combine_concepts",
    "load_prompts",
    "name_key",
    "parse_concepts",
    "validate_concepts",
)
PUBLIC = (
    "Concept",
    "Exemplar",
    "FramePrompt",
    "ObjectPrompts",
    "Prompts",
    "check_concept_names",
    "combine_concepts",
    "load_prompts",
    "name_key",
)


@pytest.mark.parametrize("name", NAMES)
def test_name_imports_from_ecoseg_prompts(name):
    assert callable(getattr(importlib.import_module("ecoseg.prompts"), name))


def test_all_is_the_public_contract():
    assert sorted(importlib.import_module("ecoseg.prompts").__all__) == sorted(PUBLIC)
