"""Writing a file so that it appears whole or not at all.

Outputs (images, exported models, manifests) are written to a temporary file in
the destination folder and renamed over the target only when complete, so a crash
or a bad input never leaves a half-written file or destroys the previous one.
Training checkpoints add fsync on top of this (:mod:`srlib.checkpoint`).
"""

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

# Read once: os.umask can only be read by setting it, which is not thread-safe later on.
_UMASK = os.umask(0)
os.umask(_UMASK)


def check_output_path(path, example_name):
    """Refuses an output ``path`` that is a folder or lies in a missing folder, before any work.

    Args:
        path: the file to be written.
        example_name: a file name the error suggests inside a folder ``path``, e.g. ``"out.png"``.

    Returns:
        ``path`` as a ``Path``.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"output {path} is a folder; expected a file name such as {path / example_name}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {path.parent}")
    return path


@contextlib.contextmanager
def replacing(path, suffix=None):
    """Yields a temporary path beside ``path``; renames it over ``path`` when the block
    completes.

    For files that other code writes or reads by name before they are published (an
    exported model measured before it replaces the previous one). The file gets the
    permissions a plain ``open`` would give it (temporary files are created owner-only).
    On any error the temporary file is removed and ``path`` is left as it was.

    Args:
        path: the file to replace.
        suffix: the temporary file's suffix (writers such as OpenCV's choose the format
            by it). Default: ``path``'s own.

    Raises:
        FileNotFoundError: the destination folder does not exist.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {path.parent}")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix if suffix is None else suffix,
                                             dir=path.parent)
    os.close(descriptor)
    try:
        yield Path(temporary)
        publish_permissions(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write(path, write):
    """Calls ``write(binary_handle)`` on a temporary file beside ``path``, then renames it
    (:func:`replacing`).

    Raises:
        FileNotFoundError: the destination folder does not exist.
    """
    with replacing(path) as temporary, open(temporary, "wb") as handle:
        write(handle)
    return Path(path)


def write_text(path, text):
    """:func:`atomic_write` of a UTF-8 text."""
    return atomic_write(path, lambda handle: handle.write(text.encode()))


def publish_permissions(path):
    """Gives a file made by ``tempfile`` the permissions of an ordinary new file."""
    os.chmod(path, 0o666 & ~_UMASK)


def json_text(payload):
    """``payload`` as the JSON text srlib writes: indented, keys sorted, a final newline."""
    return json.dumps(payload, indent=2, sort_keys=True) + "\n"


def write_json(path, payload):
    """:func:`write_text` of :func:`json_text`."""
    return write_text(path, json_text(payload))


def read_json(path, remedy=""):
    """The JSON in ``path``; a ValueError naming the file (and ``remedy``, a sentence that
    starts with ``"; "``) if it is not JSON."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:  # bare, it would not say which file
        raise ValueError(f"{path} is not valid JSON ({error}){remedy}") from error


def sha256(path):
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
