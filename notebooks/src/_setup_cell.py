"""The setup cell of every notebook: tools/build_notebook.py inserts it where a draft says
``# %% include _setup_cell.py``. It must run before srlib is importable (Colab), so it
cannot live in srlib; tests/test_notebooks.py runs it with srlib hidden."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

if importlib.util.find_spec("srlib") is None:
    # The repository this notebook sits in, else a clone of it (Colab), made once per runtime.
    repository = Path("..").resolve()
    if not (repository / "srlib" / "__init__.py").is_file():
        repository = Path("srlib-repo")
        if not repository.is_dir():
            url = os.environ.get("SRLIB_REPOSITORY", "https://github.com/srlib-notebooks/srlib.git")
            subprocess.run(["git", "clone", "--depth", "1", url, str(repository)], check=True)
    # The runtime pins only: requirements-dev.txt's test tools and Jupyter kernel would replace the host's own.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(repository / "requirements.txt")],
                   check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(repository)], check=True)
    import site
    site.main()  # pick up the editable install without restarting the kernel
    from importlib.metadata import version
    pinned = {"numpy": "numpy", "scipy": "scipy", "tensorflow": "tensorflow", "keras": "keras",
              "matplotlib": "matplotlib", "PIL": "pillow", "h5py": "h5py"}  # module: distribution
    stale = [name for module, name in pinned.items()
             if module in sys.modules and getattr(sys.modules[module], "__version__", None) != version(name)]
    if stale:  # the runtime imported them before pip replaced them with the pinned versions
        raise RuntimeError(f"pip replaced {', '.join(stale)}, already imported: restart the runtime "
                           "(Colab: Runtime > Restart session) and run the notebook again")
