"""The examples in the algorithms package's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tuneyard.algorithms

MODULES = sorted(
    f"tuneyard.algorithms.{info.name}"
    for info in pkgutil.iter_modules(tuneyard.algorithms.__path__)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
