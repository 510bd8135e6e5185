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
    built = nbformat.writes(_builder().build(draft.read_text(), path.stem, draft.parent))
    # The whole file, metadata and cell ids included, not only the sources.
    assert path.read_text().rstrip("\n") == built.rstrip("\n"), \
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


def test_strip_removes_what_a_colab_run_leaves_in_the_metadata(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    notebook.cells[0].metadata = {"colab": {"base_uri": "https://localhost:8080/"}, "outputId": "1f2e",
                                  "executionInfo": {"user": {"displayName": "A Student"}, "elapsed": 51}}
    notebook.metadata = {"colab": {"provenance": []}, "widgets": {"state": {}},
                         "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python", "version": "3.12.11"}}
    path = tmp_path / "from_colab.ipynb"
    nbformat.write(notebook, path)
    notebook_tools.strip(path)
    stripped = nbformat.read(path, as_version=4)
    assert stripped.cells[0].metadata == {} and "A Student" not in path.read_text()
    assert stripped.metadata == {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                 "language_info": {"name": "python"}}


def test_the_builder_reads_percent_markers_as_jupytext_does():
    builder = _builder()
    cells = builder.parse("# %% [md]\n# # Title\n#\n\n# %%\n%%timeit\nx = 1\n# %%timeit is not a marker\n")
    assert [(cell.cell_type, cell.source) for cell in cells] == [
        ("markdown", "# Title"), ("code", "%%timeit\nx = 1\n# %%timeit is not a marker")]
    with pytest.raises(ValueError, match="before the first '# %%' marker"):
        builder.parse("import os\n# %%\nx = 1\n")


def test_the_builder_includes_the_shared_setup_cell_without_its_docstring(tmp_path):
    builder = _builder()
    (tmp_path / "_shared.py").write_text('"""Why this file exists."""\n\nimport os\nprint(os.sep)\n')
    cells = builder.parse("# %% [markdown]\n# Setup\n\n# %% include _shared.py\n\n# %%\nx = 1\n", tmp_path)
    assert [cell.source for cell in cells] == ["Setup", "import os\nprint(os.sep)", "x = 1"]
    with pytest.raises(ValueError, match="takes its code from the file"):
        builder.parse("# %% include _shared.py\nprint(2)\n", tmp_path)


def test_the_setup_cell_installs_this_checkout_and_only_the_runtime_pins(monkeypatch):
    """The first code cell of every notebook, run where srlib is 'not importable' from the
    notebooks folder: it installs this checkout (no clone) with requirements.txt."""
    import subprocess

    commands = []
    monkeypatch.chdir(NOTEBOOKS[0].parent)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "srlib" else True)
    monkeypatch.setattr(subprocess, "run", lambda command, **options: commands.append(command))
    repository = NOTEBOOKS[0].parents[1].resolve()
    for path in NOTEBOOKS:
        setup = next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        commands.clear()
        exec(compile(setup.source, f"{path.name} setup cell", "exec"), {})
        assert [command[3:] for command in commands] == [
            ["install", "-q", "-r", str(repository / "requirements.txt")],
            ["install", "-q", "--no-deps", "-e", str(repository)]], path.name
