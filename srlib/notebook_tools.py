"""Notebook housekeeping: strip outputs before committing, and execute in quick mode.

``python -m srlib.notebook_tools strip notebooks/*.ipynb`` removes outputs and
execution counts in place; ``python -m srlib.notebook_tools run NOTEBOOK`` executes
one notebook top to bottom with ``SRLIB_QUICK=1`` (what the test suite does).
"""

import os
import sys
from pathlib import Path

import nbformat


def has_outputs(notebook):
    """True if any code cell carries outputs or an execution count."""
    return any(cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
               for cell in notebook.cells)


def strip(path):
    """Removes outputs, execution counts and the metadata a run leaves (Colab's ``executionInfo``
    and user name, execution timestamps, widget state) from a notebook file, in place.

    Cells keep no metadata; the notebook keeps its kernel and language name only.
    """
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata = nbformat.NotebookNode()
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    language = notebook.metadata.get("language_info", {}).get("name", "python")
    notebook.metadata = nbformat.from_dict({"kernelspec": notebook.metadata.get("kernelspec", {}),
                                            "language_info": {"name": language}})
    nbformat.write(notebook, path)


def execute(path, timeout=1200, quick=True):
    """Runs a notebook top to bottom in its own folder; returns the executed notebook."""
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    environment_backup = os.environ.get("SRLIB_QUICK")
    os.environ["SRLIB_QUICK"] = "1" if quick else "0"
    try:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    finally:
        if environment_backup is None:
            os.environ.pop("SRLIB_QUICK", None)
        else:
            os.environ["SRLIB_QUICK"] = environment_backup
    return notebook


def main(argv):
    if len(argv) < 2 or argv[0] not in ("strip", "run"):
        print(__doc__)
        return 2
    for name in argv[1:]:
        if argv[0] == "strip":
            strip(name)
        else:
            execute(name)
        print(f"{argv[0]}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
