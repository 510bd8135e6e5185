"""Builds a notebook from a percent-format script (``# %%`` code, ``# %% [markdown]`` text).

``# %% include FILE.py`` makes a code cell of ``FILE.py`` (beside the draft, its docstring
left out): the setup cell every notebook shares is written once, in ``_setup_cell.py``.

The drafts in ``notebooks/src/*.py`` are the source of the notebooks (they review as plain
diffs); ``make notebooks`` runs this tool on each, and a test fails when a committed notebook
differs from its draft:

    python tools/build_notebook.py draft.py notebooks/NN_topic.ipynb
"""

import ast
import collections
import hashlib
import re
import sys
from pathlib import Path

import nbformat

# jupytext's percent format: "# %%" alone or followed by a space ("# %%timeit" is not a marker).
_MARKER = re.compile(r"# %%(?: |$)")
_INCLUDE = re.compile(r"# %% include (\S+\.py)$")
METADATA = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}}


def included_code(path):
    """The code of an included file, without its module docstring."""
    text = Path(path).read_text()
    tree = ast.parse(text)
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) \
            and isinstance(tree.body[0].value.value, str):
        text = "\n".join(text.splitlines()[tree.body[0].end_lineno:])
    return text.strip("\n")


def parse(text, directory="."):
    """The cells of a percent-format draft whose includes are in ``directory``; text before the
    first ``# %%`` marker, and text inside an include cell, are refused."""
    cells, kind, included, lines = [], None, None, []

    def flush():
        body = "\n".join(lines).strip("\n")
        if kind is None:
            if body.strip():
                raise ValueError(f"text before the first '# %%' marker would be lost: {body.splitlines()[0]!r}")
        elif kind == "include":
            if body.strip():
                raise ValueError(f"'# %% include {included}' takes its code from the file; this text would be "
                                 f"lost: {body.splitlines()[0]!r}")
            cells.append(nbformat.v4.new_code_cell(included_code(Path(directory) / included)))
        elif kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
            if body.strip():
                cells.append(nbformat.v4.new_markdown_cell(body.strip("\n")))
        elif body:
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        if _MARKER.match(line):
            flush()
            include = _INCLUDE.match(line)
            included = include.group(1) if include else None
            kind = "include" if include else "markdown" if re.search(r"\[(markdown|md)\]", line) else "code"
            lines = []
        else:
            lines.append(line)
    flush()
    return cells


def build(text, name, directory="."):
    """The notebook ``name`` (its file stem) from the draft ``text`` (includes in ``directory``),
    with stable cell ids."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {key: dict(value) for key, value in METADATA.items()}
    notebook.cells = parse(text, directory)
    # Cell ids from the notebook's name and the cell's text (and its count among equal cells),
    # not random nor positional: rebuilding an unchanged draft gives an unchanged file, and
    # inserting a cell changes no other cell's id, so a diff shows only what was edited.
    seen = collections.Counter()
    for cell in notebook.cells:
        seen[cell.source] += 1
        cell.id = hashlib.sha1(f"{name}/{cell.cell_type}/{cell.source}/{seen[cell.source]}".encode()).hexdigest()[:8]
    return notebook


def main(source, target):
    nbformat.write(build(Path(source).read_text(), Path(target).stem, Path(source).parent), target)


if __name__ == "__main__":
    main(*sys.argv[1:3])
