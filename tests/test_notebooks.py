"""Notebooks: committed without outputs, in sync with their drafts, and runnable top to bottom.

Every notebook is executed in quick mode (``SRLIB_QUICK=1``): the same cells as the full
run, with smaller training budgets and subsets, so that a broken cell fails CI.
"""

import importlib.util
from pathlib import Path

import nbformat
import pytest

from srlib import notebook_tools

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
_BUILDER = Path(__file__).parents[1] / "tools" / "build_notebook.py"


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebook", _BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    assert not notebook_tools.has_outputs(nbformat.read(path, as_version=4)), \
        f"{path.name} carries outputs: run `make notebooks-clean`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_in_sync_with_draft(path):
    draft = path.parent / "src" / (path.stem + ".py")
    assert draft.is_file(), f"{path.name} has no draft {draft}"
    built = _builder().parse(draft.read_text())
    cells = nbformat.read(path, as_version=4).cells
    assert [(c.cell_type, c.source) for c in cells] == [(c.cell_type, c.source) for c in built], \
        f"{path.name} differs from {draft.name}: run `make notebooks`"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_in_quick_mode(path):
    notebook_tools.execute(path, timeout=1200, quick=True)


def test_strip_removes_outputs_and_execution_counts(tmp_path):
    import nbformat

    from srlib import notebook_tools

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)", execution_count=3,
                                                                         outputs=[nbformat.v4.new_output(
                                                                             "stream", text="1\n")]),
                                               nbformat.v4.new_markdown_cell("# title")])
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    assert notebook_tools.has_outputs(nbformat.read(path, as_version=4))
    assert notebook_tools.main(["strip", str(path)]) == 0
    stripped = nbformat.read(path, as_version=4)
    assert not notebook_tools.has_outputs(stripped) and stripped.cells[0].source == "print(1)"
    assert stripped.cells[1].source == "# title"
