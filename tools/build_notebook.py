"""Builds a notebook from a percent-format script (``# %%`` code, ``# %% [markdown]`` text).

The drafts in ``notebooks/src/*.py`` are the source of the notebooks (they review as plain
diffs); ``make notebooks`` runs this tool on each, and a test fails when a committed notebook
differs from its draft:

    python tools/build_notebook.py draft.py notebooks/NN_topic.ipynb
"""

import hashlib
import sys
from pathlib import Path

import nbformat


def parse(text):
    cells, kind, lines = [], None, []

    def flush():
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif kind == "code" and body:
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    flush()
    return cells


def main(source, target):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}
    with open(source) as handle:
        notebook.cells = parse(handle.read())
    # Cell ids from the notebook's name and the cell's position, not random: rebuilding an
    # unchanged draft gives an unchanged file, and a diff shows only what was edited.
    for index, cell in enumerate(notebook.cells):
        cell.id = hashlib.sha1(f"{Path(target).stem}/{index}".encode()).hexdigest()[:8]
    nbformat.write(notebook, target)


if __name__ == "__main__":
    main(*sys.argv[1:3])
