import dataclasses
import functools
import hashlib
import http.server
import re
import threading
import urllib.request
import zipfile

import numpy as np
import pytest

from srlib import datasets, images


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SRLIB_DATA", str(root))
    monkeypatch.setenv("SRLIB_MIRROR", str(tmp_path / "no-mirror"))
    return root


def _write_pngs(folder, count, rng):
    folder.mkdir(parents=True)
    for index in range(count):
        images.write_image(folder / f"img{index}.png", rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))


@pytest.fixture
def mirror_server(tmp_path, rng):
    """A local HTTP mirror serving a zip of three images, like a public archive."""
    source = tmp_path / "archive_source"
    _write_pngs(source / "Tiny_HR", 3, rng)
    archive = tmp_path / "served" / "Tiny_HR.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted((source / "Tiny_HR").iterdir()):
            bundle.write(path, f"Tiny_HR/{path.name}")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(archive.parent))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/Tiny_HR.zip", hashlib.sha256(archive.read_bytes()).hexdigest()
    server.shutdown()


def _register(monkeypatch, url, sha256, folder="Tiny_HR"):
    info = datasets.DatasetInfo("Tiny", "evaluation", 3, "test", url, folder, sha256)
    monkeypatch.setitem(datasets.DATASETS, "Tiny", info)
    return info


def test_download_from_mirror_with_checksum(data_root, mirror_server, monkeypatch):
    url, sha256 = mirror_server
    _register(monkeypatch, url, sha256)
    folder = datasets.resolve("Tiny")
    assert folder == data_root / "Tiny"
    assert [name for name, _ in datasets.load_images("Tiny")] == ["img0", "img1", "img2"]
    assert not list(data_root.glob(".Tiny-*"))  # scratch folders are cleaned up


def test_download_finds_the_image_folder_when_the_layout_differs(data_root, mirror_server, monkeypatch):
    url, sha256 = mirror_server
    _register(monkeypatch, url, sha256, folder="somewhere/else")
    assert len(datasets.load_images("Tiny")) == 3


def test_md5_is_checked_where_only_md5_is_published(data_root, mirror_server, monkeypatch, tmp_path):
    url, _ = mirror_server
    info = datasets.DatasetInfo("Tiny", "evaluation", 3, "test", url, "Tiny_HR", md5="0" * 32)
    monkeypatch.setitem(datasets.DATASETS, "Tiny", info)
    with pytest.raises(datasets.DatasetNotFoundError, match="expected md5 0{32}"):
        datasets.resolve("Tiny")
    assert not (data_root / "Tiny").exists()
    assert not list((data_root / ".downloads").iterdir())
    archive = tmp_path / "Tiny_HR.zip"
    with urllib.request.urlopen(url) as response:
        archive.write_bytes(response.read())
    monkeypatch.setitem(datasets.DATASETS, "Tiny", dataclasses.replace(
        info, md5=hashlib.md5(archive.read_bytes()).hexdigest()))
    assert len(datasets.load_images("Tiny")) == 3


def test_images_md5_is_checked_after_extraction(data_root, mirror_server, monkeypatch, tmp_path):
    url, sha256 = mirror_server
    info = _register(monkeypatch, url, sha256)
    monkeypatch.setitem(datasets.DATASETS, "Tiny", dataclasses.replace(info, images_md5="0" * 32))
    with pytest.raises(datasets.DatasetNotFoundError, match="differ from the published Tiny.*extract its images into"):
        datasets.resolve("Tiny")
    assert not (data_root / "Tiny").exists()
    # The archive is whole (it extracted): kept, since a new download would hold the same images.
    assert [path.name for path in (data_root / ".downloads").iterdir()] == ["Tiny_HR.zip"]
    assert not list(data_root.glob(".Tiny-*"))
    source = tmp_path / "archive_source" / "Tiny_HR"  # what the mirror server zipped
    monkeypatch.setitem(datasets.DATASETS, "Tiny", dataclasses.replace(info, images_md5=datasets.images_md5(source)))
    assert datasets.images_md5(datasets.resolve("Tiny")) == datasets.images_md5(source)
    assert "images match the published digest" in datasets.describe("Tiny")


def test_a_folder_holding_no_images_directly_is_not_replaced_by_a_download(data_root, mirror_server, monkeypatch):
    url, sha256 = mirror_server
    _register(monkeypatch, url, sha256)
    nested = data_root / "Tiny" / "Tiny_HR"  # the archive extracted as it is, one level too deep
    nested.mkdir(parents=True)
    (nested / "img0.png").write_bytes(b"mine")
    (data_root / "Tiny" / "notes.md").write_text("mine")
    with pytest.raises(datasets.DatasetNotFoundError, match=r"Tiny exists but holds no images directly"):
        datasets.resolve("Tiny")
    assert (nested / "img0.png").read_bytes() == b"mine" and (data_root / "Tiny" / "notes.md").is_file()
    assert not (data_root / ".downloads").exists()  # refused before downloading anything
    (data_root / "Tiny" / "notes.md").unlink()
    (nested / "img0.png").unlink()
    nested.rmdir()  # an empty folder is replaced
    assert datasets.resolve("Tiny") == data_root / "Tiny" and len(datasets.load_images("Tiny")) == 3


def test_limit_decodes_only_the_images_it_keeps(tmp_path, rng, monkeypatch):
    _write_pngs(tmp_path / "folder", 4, rng)
    decoded = []
    read_image = images.read_image
    monkeypatch.setattr(images, "read_image", lambda path: decoded.append(path.name) or read_image(path))
    assert [name for name, _ in datasets.load_images(tmp_path / "folder", limit=2)] == ["img0", "img1"]
    assert decoded == ["img0.png", "img1.png"]
    assert [name for name, _ in datasets.load_images("embedded", limit=1)] == [datasets.EMBEDDED_IMAGES[0]]


def test_images_md5_follows_deepinv_and_tells_copies_apart(tmp_path, rng):
    _write_pngs(tmp_path / "copy", 3, rng)
    expected = hashlib.md5()
    for name in ["img0.png", "img1.png", "img2.png"]:  # the MD5 of the files' hex MD5s, by name
        expected.update(hashlib.md5((tmp_path / "copy" / name).read_bytes()).hexdigest().encode())
    assert datasets.images_md5(tmp_path / "copy") == expected.hexdigest()
    images.write_image(tmp_path / "copy" / "img1.png", rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))
    assert datasets.images_md5(tmp_path / "copy") != expected.hexdigest()


@pytest.mark.parametrize("name", ["Set5", "Set14"])
def test_shared_copies_are_the_published_images(name):
    from conftest import require_dataset

    folder = require_dataset(name)
    assert datasets.images_md5(folder) == datasets.lookup(name).images_md5


def test_checksum_mismatch_keeps_nothing(data_root, mirror_server, monkeypatch):
    url, _ = mirror_server
    _register(monkeypatch, url, "0" * 64)
    with pytest.raises(datasets.DatasetNotFoundError, match="checksum mismatch"):
        datasets.resolve("Tiny")
    assert not (data_root / "Tiny").exists()
    assert not list((data_root / ".downloads").iterdir())


def test_a_broken_cached_archive_is_named_and_removed(data_root, monkeypatch):
    _register(monkeypatch, "http://127.0.0.1:9/Tiny_HR.zip", None)  # never fetched: the cache is used
    archive = data_root / ".downloads" / "Tiny_HR.zip"
    archive.parent.mkdir()
    archive.write_text("<html>503 Service Unavailable</html>")  # what a failed download can leave
    with pytest.raises(datasets.DatasetNotFoundError) as error:
        datasets.resolve("Tiny")
    assert str(archive) in str(error.value) and "not a usable Tiny archive" in str(error.value)
    assert not archive.exists() and not (data_root / "Tiny").exists()


def test_offline_error_names_paths_and_url(data_root, monkeypatch):
    _register(monkeypatch, "http://127.0.0.1:9/Tiny_HR.zip", None)  # port 9: nothing listens
    with pytest.raises(datasets.DatasetNotFoundError) as error:
        datasets.resolve("Tiny")
    message = str(error.value)
    assert str(data_root / "Tiny") in message and "http://127.0.0.1:9/Tiny_HR.zip" in message
    assert "SRLIB_DATA" in message


def test_mirror_is_searched_after_data_dir(data_root, tmp_path, monkeypatch, rng):
    mirror = tmp_path / "mirror"
    _write_pngs(mirror / "Set5", 2, rng)
    monkeypatch.setenv("SRLIB_MIRROR", str(mirror))
    assert datasets.resolve("set5", download=False) == mirror / "Set5"
    _write_pngs(data_root / "Set5", 1, rng)
    assert datasets.resolve("Set5", download=False) == data_root / "Set5"


def test_folder_path_is_a_dataset(tmp_path, rng):
    _write_pngs(tmp_path / "mine", 2, rng)
    assert len(datasets.load_images(tmp_path / "mine")) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(datasets.DatasetNotFoundError, match="holds no images"):
        datasets.resolve(tmp_path / "empty")


def test_embedded_set_needs_no_files(data_root):
    loaded = datasets.load_images("embedded")
    assert [name for name, _ in loaded] == list(datasets.EMBEDDED_IMAGES)
    assert {image.shape[-1] for _, image in loaded} == {1, 3}  # 'camera' is greyscale


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.lookup("Set6")


def test_greyscale_and_rgba_files_load(tmp_path, rng):
    from PIL import Image

    grey = rng.integers(0, 256, (9, 7), dtype=np.uint8)
    rgba = rng.integers(0, 256, (9, 7, 4), dtype=np.uint8)
    Image.fromarray(grey, "L").save(tmp_path / "grey.png")
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(images.read_image(tmp_path / "grey.png"), grey[..., None])
    np.testing.assert_array_equal(images.read_image(tmp_path / "rgba.png"), rgba[..., :3])  # alpha dropped
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png"):
        images.read_image(tmp_path / "broken.png")


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_sixteen_bit_files_are_refused_not_truncated(tmp_path, rng, channels):
    import cv2

    pixels = rng.integers(0, 65536, (6, 5, channels), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), pixels[..., 0] if channels == 1 else pixels)
    with pytest.raises(ValueError, match=r"deep.png.*(16 bits|unsupported image mode)"):
        images.read_image(tmp_path / "deep.png")


def test_write_image_is_atomic(tmp_path, rng):
    target = tmp_path / "out.png"
    images.write_image(target, rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    before = target.read_bytes()
    with pytest.raises(ValueError, match="expected 8-bit pixels, got dtype float32"):
        images.write_image(target, np.zeros((4, 4, 3), np.float32))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_to_uint8_rounds_half_up_and_clips_as_matlab_uint8():
    levels = np.arange(256)
    np.testing.assert_array_equal(images.to_uint8(levels / 255.0), levels)
    # Just below and above each half level, in float32 as networks output them.
    np.testing.assert_array_equal(images.to_uint8(((levels[:-1] + 0.499) / 255.0).astype("float32")), levels[:-1])
    np.testing.assert_array_equal(images.to_uint8(((levels[:-1] + 0.501) / 255.0).astype("float32")), levels[1:])
    np.testing.assert_array_equal(images.to_uint8(np.array([-0.3, 1.7])), [0, 255])
    assert images.to_uint8(np.zeros((2, 3, 1), "float32")).dtype == np.uint8


def test_shared_set14_has_a_greyscale_image():
    from conftest import require_dataset

    folder = require_dataset("Set14")
    assert images.read_image(folder / "bridge.png").shape[-1] == 1


def test_written_files_get_ordinary_permissions(tmp_path, rng):
    import os
    import stat

    target = tmp_path / "out.png"
    images.write_image(target, rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_pinned_digests_are_lowercase_sha256_as_hashlib_prints_them():
    for info in datasets.DATASETS.values():
        if info.source != "files":
            continue
        assert info.url.startswith(("https://", "http://")), info.name
        if info.sha256 is not None:
            assert re.fullmatch(r"[0-9a-f]{64}", info.sha256), f"{info.name}: {info.sha256!r}"
        for md5 in (info.md5, info.images_md5):
            if md5 is not None:
                assert re.fullmatch(r"[0-9a-f]{32}", md5), f"{info.name}: {md5!r}"


def test_exif_orientation_is_applied(tmp_path, rng):
    from PIL import Image

    pixels = rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)  # 6 rows, 10 columns as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display", what a phone held upright writes
    Image.fromarray(pixels).save(tmp_path / "phone.png", exif=exif)
    upright = images.read_image(tmp_path / "phone.png")
    np.testing.assert_array_equal(upright, np.rot90(pixels, k=-1))  # 10 rows, 6 columns, as shown
    Image.fromarray(pixels).save(tmp_path / "plain.png")
    np.testing.assert_array_equal(images.read_image(tmp_path / "plain.png"), pixels)


def test_div2k_without_its_tfds_folder_says_where_to_put_it(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow_datasets")
    monkeypatch.setenv("SRLIB_DATA", str(tmp_path))
    with pytest.raises(datasets.DatasetNotFoundError, match=r"DIV2K through tensorflow-datasets failed") as caught:
        datasets.load_images("DIV2K", limit=1, download=False)  # offline: nothing prepared, nothing fetched
    assert str(tmp_path / "tfds") in str(caught.value) and "DIV2K_train_HR.zip" in str(caught.value)
