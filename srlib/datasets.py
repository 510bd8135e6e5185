"""The standard super-resolution image sets, found locally or downloaded.

A dataset name resolves, in order, against

1. the data directory: ``$SRLIB_DATA``, else the checkout's ``datasets/`` folder
   (``~/.cache/srlib/datasets`` for a non-editable install);
2. local mirror directories: ``$SRLIB_MIRROR`` (``os.pathsep``-separated), else the
   team's shared folder ``../shared/datasets`` beside the checkout, if present;
3. a download of the public archive into the data directory (progress bar,
   SHA-256 check where the registry pins one, atomic extraction).

Where a digest of the images themselves is published (``images_md5``), the
extracted images are checked against it too, and :func:`describe` (``python -m
srlib datasets``) checks any local copy: a copy of Set14 from elsewhere is then
known to be the one the published tables' reproductions used, or not.

Offline and missing, :class:`DatasetNotFoundError` names every path searched, the
URL, and where to put the files. A folder path works wherever a name does.

Two sets need no files at all: ``"embedded"`` (scikit-image's bundled photos,
used by ``make demo`` and the tests) and ``"DIV2K"`` (through tensorflow-datasets).
"""

import dataclasses
import hashlib
import itertools
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path


from srlib import images

_CHECKOUT = Path(__file__).resolve().parents[1]
_IS_CHECKOUT = (_CHECKOUT / "pyproject.toml").is_file()


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """One registered image set.

    Attributes:
        name: canonical name, also the folder name under the data directory.
        role: ``"evaluation"`` or ``"training"``.
        num_images: expected number of HR images (checked after download).
        citation: where the set comes from.
        url: public archive holding the HR images, or None.
        archive_folder: folder inside the archive that holds the images.
        sha256: SHA-256 of the archive; None where not yet pinned (then the
            download prints the digest it saw so that it can be pinned).
        md5: MD5 of the archive, where only that has been published; checked too.
        source: ``"files"``, ``"embedded"`` or ``"tfds"``.
        images_md5: digest of the HR image files themselves, in deepinv's convention
            (see :func:`images_md5`); checked after extraction and by :func:`describe`.
    """

    name: str
    role: str
    num_images: int
    citation: str
    url: str = None
    archive_folder: str = ""
    sha256: str = None
    source: str = "files"
    md5: str = None
    images_md5: str = None


_HF = "https://huggingface.co/datasets/eugenesiow"
# The digests are published ones, not yet confirmed here (this machine has no internet): T91 and
# BSD200 as other public projects recorded them when they downloaded the same archives
# (SRCNN_train.zip retrieved 2026-09-01); Set5 and B100 as the Hugging Face file pages show their
# Git LFS SHA-256 (the "Add data." commits, read 2026-12-03); Urban100 has only an MD5, from
# deepinv's GAN example, which downloads the same URL. Set5, Set14 and B100 also have a digest of
# their extracted images, from deepinv's dataset classes (deepinv/datasets/set5.py, set14.py,
# bsd100.py, `_checksums`): the copies in the team's shared mirror match Set5's and Set14's
# (checked 2026-12-03), which confirms those two against a published value. A mismatch stops the
# download with both digests; an archive that changed upstream is then best extracted by hand
# (the error says where).
DATASETS = {info.name: info for info in [
    DatasetInfo("Set5", "evaluation", 5, "Bevilacqua et al., BMVC 2012",
                f"{_HF}/Set5/resolve/main/data/Set5_HR.tar.gz", "Set5_HR",
                "260fc447296333f6c2716bcd65513968c33b666f21a905537ee3330c51a1945b",
                images_md5="e128ede786dabb7ebeee99e5fa1ad985"),
    DatasetInfo("Set14", "evaluation", 14, "Zeyde et al., Curves and Surfaces 2010",
                f"{_HF}/Set14/resolve/main/data/Set14_HR.tar.gz", "Set14_HR",
                images_md5="3fce01c3dfe9760194e8a22f6bc032c5"),
    DatasetInfo("B100", "evaluation", 100, "Martin et al., ICCV 2001 (BSD300 test split)",
                f"{_HF}/BSD100/resolve/main/data/BSD100_HR.tar.gz", "BSD100_HR",
                "333495ccded04a0db52b33361140821ea7e0d8af8dfb54b58df79a00010858d6",
                images_md5="2288d442262c1c26343fda3b36f05b03"),
    DatasetInfo("Urban100", "evaluation", 100, "Huang et al., CVPR 2015",
                f"{_HF}/Urban100/resolve/main/data/Urban100_HR.tar.gz", "Urban100_HR",
                md5="65d9d84a34b72c6f7ca1e26a12df1e4c"),
    DatasetInfo("T91", "training", 91, "Yang et al., TIP 2010 (the SRCNN training set)",
                "http://mmlab.ie.cuhk.edu.hk/projects/SRCNN/SRCNN_train.zip", "Train",
                "001146419f7acfb12a3e7929c8acd5de88a08d687d6881085f81321ad6982b1a"),
    DatasetInfo("BSD200", "training", 200, "Martin et al., ICCV 2001 (BSD300 train split)",
                "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/bsds/BSDS300-images.tgz",
                "BSDS300/images/train", "a5f7d0e49fe135c75518a3543ced24470156fd69305ae77845dff2a5138652b4"),
    DatasetInfo("DIV2K", "training", 800, "Agustsson & Timofte, CVPR workshops 2017",
                source="tfds"),
    DatasetInfo("embedded", "evaluation", 5, "scikit-image sample photos (bundled, no download)",
                source="embedded"),
]}
_ALIASES = {"bsd100": "B100", "default": "embedded", "91": "T91"}

# scikit-image photos that ship inside the package (no network): four RGB, one grey.
EMBEDDED_IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "camera")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither local nor downloadable; the message says what to do."""


def data_dir():
    """Where datasets live and downloads go: ``$SRLIB_DATA`` or the default."""
    if os.environ.get("SRLIB_DATA"):
        return Path(os.environ["SRLIB_DATA"]).expanduser()
    return _CHECKOUT / "datasets" if _IS_CHECKOUT else Path.home() / ".cache" / "srlib" / "datasets"


def mirror_dirs():
    """Read-only local mirrors searched after the data directory."""
    if os.environ.get("SRLIB_MIRROR"):
        return [Path(p).expanduser() for p in os.environ["SRLIB_MIRROR"].split(os.pathsep) if p]
    shared = _CHECKOUT.parent / "shared" / "datasets"
    return [shared] if _IS_CHECKOUT and shared.is_dir() else []


def lookup(name):
    """The :class:`DatasetInfo` registered under ``name`` (case-insensitive)."""
    key = _ALIASES.get(name.lower(), name)
    for registered, info in DATASETS.items():
        if registered.lower() == key.lower():
            return info
    raise ValueError(f"unknown dataset {name!r}: expected one of {sorted(DATASETS)} or a folder path")


def check_name(dataset):
    """``dataset`` if it is a registered name or an existing folder, else ValueError naming the
    registered sets: for arguments stored now and resolved later (at an epoch's end)."""
    if not Path(str(dataset)).expanduser().is_dir():
        lookup(str(dataset))
    return dataset


def _has_images(folder):
    return folder.is_dir() and bool(images.list_images(folder))


def resolve(name, download=True):
    """The local folder holding a dataset's HR images, downloading it if needed.

    Args:
        name: a registered name (``"Set5"``) or a folder path.
        download: fetch the public archive when no local copy exists. Default True.

    Returns:
        A :class:`~pathlib.Path`.

    Raises:
        DatasetNotFoundError: not found locally and not downloadable.
    """
    as_path = Path(name).expanduser()
    if as_path.is_dir():
        if not _has_images(as_path):
            raise DatasetNotFoundError(f"folder {as_path} holds no images ({', '.join(images.IMAGE_SUFFIXES)})")
        return as_path
    info = lookup(str(name))
    if info.source != "files":
        raise ValueError(f"dataset {info.name} is not a folder of files; use load_images({info.name!r})")
    candidates = [data_dir() / info.name] + [mirror / info.name for mirror in mirror_dirs()]
    for candidate in candidates:
        if _has_images(candidate):
            return candidate
    if download:
        try:
            return _download(info, data_dir())
        except (urllib.error.URLError, OSError) as error:
            reason = f"download failed: {error}"
    else:
        reason = "download=False"
    searched = "\n".join(f"  {path}" for path in candidates)
    raise DatasetNotFoundError(
        f"dataset {info.name} not found. Searched:\n{searched}\n{reason}.\n"
        f"Download {info.url} , extract the images of '{info.archive_folder}' into "
        f"{data_dir() / info.name}/ (or set SRLIB_DATA / SRLIB_MIRROR to a folder holding {info.name}/).")


def _fetch(url, destination, expected_sha256, expected_md5=None):
    """Streams ``url`` to ``destination`` with a progress bar; returns the SHA-256 seen.

    Raises:
        OSError: a digest differs from the expected one (nothing is kept).
    """
    from tqdm.auto import tqdm

    digest, md5 = hashlib.sha256(), hashlib.md5()
    partial = destination.with_name(destination.name + ".part")
    with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as handle:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=destination.name) as progress:
            while chunk := response.read(1 << 20):
                handle.write(chunk)
                digest.update(chunk)
                md5.update(chunk)
                progress.update(len(chunk))
    seen = digest.hexdigest()
    for name, expected, got in (("sha256", expected_sha256, seen), ("md5", expected_md5, md5.hexdigest())):
        if expected and got != expected:
            partial.unlink()
            raise OSError(f"checksum mismatch for {url}: expected {name} {expected}, got {got}")
    os.replace(partial, destination)
    return seen


def _extract(archive, target):
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(target)
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(target, filter="data")


def _image_folder(extracted, info):
    """The extracted folder holding the HR images: ``archive_folder``, else the one
    folder anywhere in the archive with exactly ``num_images`` images."""
    expected = extracted / info.archive_folder
    folders = [expected] + sorted(p for p in extracted.rglob("*") if p.is_dir())
    for folder in folders:
        if folder.is_dir() and len(images.list_images(folder)) == info.num_images:
            return folder
    raise OSError(f"the {info.name} archive has no folder with {info.num_images} images "
                  f"(looked for '{info.archive_folder}' first)")


def images_md5(folder):
    """Digest of the files in ``folder``: the MD5 of their hexadecimal MD5s, in name order.

    deepinv's ``calculate_md5_for_folder``, so that its published digests of the standard
    sets apply to a copy found anywhere. Only the files directly in ``folder`` count.
    """
    digest = hashlib.md5()
    for path in sorted(Path(folder).iterdir(), key=lambda path: path.name):
        if path.is_file():
            digest.update(hashlib.md5(path.read_bytes()).hexdigest().encode())
    return digest.hexdigest()




def _download(info, root):
    """Downloads and extracts ``info`` into ``root / info.name``, atomically."""
    if not info.url:
        raise OSError(f"dataset {info.name} has no download URL")
    final = root / info.name
    if final.is_dir() and any(final.iterdir()):
        # Not ours to replace: perhaps the archive extracted as it is (T91/Train/*.png), or notes.
        raise OSError(f"{final} exists but holds no images directly; srlib does not overwrite it. Move the "
                      f"images of '{info.archive_folder}' into it (or delete it to download again)")
    downloads = root / ".downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / Path(info.url).name
    if not archive.is_file():
        seen = _fetch(info.url, archive, info.sha256, info.md5)
        if not info.sha256:
            print(f"{info.name}: downloaded {archive.name}, sha256 {seen} (not pinned in the registry)")
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{info.name}-") as scratch:
        try:
            _extract(archive, scratch)
            found = _image_folder(Path(scratch), info)
        except (tarfile.TarError, zipfile.BadZipFile, OSError) as error:
            # A cached archive that cannot be used (an HTML error page saved under the archive's
            # name, a truncated file) would fail the same way on every call: remove it.
            archive.unlink()
            raise OSError(f"{archive} is not a usable {info.name} archive ({error}); it was deleted, "
                          f"so the next call downloads it again") from error
        seen = images_md5(found) if info.images_md5 else None
        if seen != info.images_md5:
            # The archive itself is whole (it extracted, and passed its checksum where one is
            # pinned): downloading it again would give the same images, so it is kept.
            raise OSError(f"the images in {archive} differ from the published {info.name}: images_md5 {seen}, "
                          f"expected {info.images_md5}; results on them would not match the paper tables. To use "
                          f"this copy anyway, extract its images into {final}/")
        if final.is_dir():
            final.rmdir()  # empty (checked above)
        os.replace(found, final)
    return final


def _embedded_images():
    import skimage.data

    for name in EMBEDDED_IMAGES:
        yield name, images.to_standard_channels(getattr(skimage.data, name)(), source=f"skimage.data.{name}")


def _tfds_images(limit, download=True):
    try:
        import tensorflow_datasets as tfds
        dataset = tfds.load("div2k/bicubic_x4", split="train", data_dir=str(data_dir() / "tfds"), download=download)
    except Exception as error:  # tfds raises many kinds of errors when offline
        raise DatasetNotFoundError(
            f"DIV2K through tensorflow-datasets failed ({type(error).__name__}: {error}). "
            f"tfds downloads DIV2K_train_HR.zip from data.vision.ee.ethz.ch into {data_dir() / 'tfds'}; "
            "on an offline machine, prepare it elsewhere and copy that folder.") from error
    for index, example in enumerate(tfds.as_numpy(dataset)):
        if limit is not None and index >= limit:
            return
        yield f"{index:04d}", example["hr"]


def load_images(name, limit=None, download=True):
    """Loads a dataset's HR images as uint8 arrays.

    Args:
        name: registered name (``"Set5"``, ``"embedded"``, ...) or a folder path.
        limit: load only the first ``limit`` images in the dataset's order (sorted file
            names for folders, the listed order for ``"embedded"``). Default all.
        download: allow downloading a missing dataset. Default True.

    Returns:
        A list of ``(stem, image)`` pairs; ``image`` is ``(H, W, 1)`` for greyscale
        files and ``(H, W, 3)`` for colour ones (alpha dropped).
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    is_folder = Path(name).expanduser().is_dir()
    info = None if is_folder else lookup(str(name))
    if info is not None and info.source == "embedded":
        return list(itertools.islice(_embedded_images(), limit))
    if info is not None and info.source == "tfds":
        return list(_tfds_images(limit, download))
    # Listed, then cut to `limit`, then decoded: a limit on a large folder reads only what it keeps.
    return [(path.stem, images.read_image(path)) for path in images.list_images(resolve(name, download))[:limit]]


def describe(name):
    """One line about a dataset: its source, where it resolves (no download) and, where a
    digest of its images is published, whether the local copy matches it."""
    info = lookup(name)
    if info.source != "files":
        return f"{info.name}: {info.num_images} images, {info.citation}"
    try:
        where = resolve(name, download=False)
    except DatasetNotFoundError:
        return f"{info.name}: {info.num_images} images, {info.citation}; not available locally"
    if info.images_md5:
        seen = images_md5(where)
        matches = seen == info.images_md5
        where = f"{where} ({'images match the published digest' if matches else f'a different copy: images_md5 {seen}, published {info.images_md5}'})"
    return f"{info.name}: {info.num_images} images, {info.citation}; {where}"
