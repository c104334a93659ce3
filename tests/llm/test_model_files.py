"""Assembling the chunked GGUF: verified, atomic, cached; clear errors on damaged parts."""

from __future__ import annotations

import hashlib
import importlib
import sys

import pytest

from tutor.errors import TutorError
from tutor.llm import model_files
from tutor.llm.model_files import assemble_chunked_gguf, chunk_paths
from tutor.llm.presets import GgufParts, Preset, get_preset


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three real installed-looking packages on sys.path, each holding data/partNN.bin."""
    site = tmp_path / "site"
    chunks = [bytes([i]) * (1000 + 37 * i) for i in range(1, 4)]
    names = []
    for i, chunk in enumerate(chunks, 1):
        pkg = site / f"tutor_test_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
        names.append(pkg.name)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    whole = b"".join(chunks)
    preset = Preset(
        name="fake",
        family="qwen2",
        description="test",
        context_length=512,
        hf_repo="x/y",
        source="chunked-wheels",
        gguf_filename="fake.gguf",
        gguf_parts=GgufParts(packages=names, size=len(whole), sha256=hashlib.sha256(whole).hexdigest()),
        supports_tools=False,
    )
    yield preset, site, whole
    for name in names:
        sys.modules.pop(name, None)


def test_assembles_verifies_and_stamps(fake_parts, tmp_path):
    preset, _, whole = fake_parts
    dest = tmp_path / "models"
    dest.mkdir()
    path = assemble_chunked_gguf(preset, dest, progress=False)
    assert path.read_bytes() == whole
    assert (dest / "fake.gguf.verified.json").is_file()
    assert not list(dest.glob("*.part"))  # no temp file left behind


def test_second_start_trusts_the_stamp_and_rehashes_after_a_change(fake_parts, tmp_path, monkeypatch):
    preset, _, whole = fake_parts
    dest = tmp_path / "models"
    dest.mkdir()
    path = assemble_chunked_gguf(preset, dest, progress=False)
    calls = []
    real = model_files._sha256_file
    monkeypatch.setattr(model_files, "_sha256_file", lambda p, progress: calls.append(p) or real(p, progress))
    assert assemble_chunked_gguf(preset, dest, progress=False) == path
    assert calls == []  # stamp matched: no hashing
    # Same size, different bytes, new mtime: the stamp no longer matches, the file is re-checked and rebuilt.
    path.write_bytes(b"\0" * len(whole))
    assert assemble_chunked_gguf(preset, dest, progress=False).read_bytes() == whole
    assert calls == [path]


def test_corrupt_part_gives_one_line_and_leaves_no_file(fake_parts, tmp_path):
    preset, site, _ = fake_parts
    part = site / "tutor_test_part2" / "data" / "part02.bin"
    data = bytearray(part.read_bytes())
    data[5] ^= 0xFF
    part.write_bytes(bytes(data))
    dest = tmp_path / "models"
    dest.mkdir()
    with pytest.raises(TutorError) as err:
        assemble_chunked_gguf(preset, dest, progress=False)
    assert "checksum" in str(err.value) and "\n" not in str(err.value)
    assert not (dest / "fake.gguf").exists()
    assert not list(dest.glob("*.part"))


def test_missing_or_short_part_is_named(fake_parts, tmp_path):
    preset, site, _ = fake_parts
    (site / "tutor_test_part3" / "data" / "part03.bin").unlink()
    with pytest.raises(TutorError, match="tutor-test-part3"):
        chunk_paths(preset)
    dest = tmp_path / "models"
    dest.mkdir()
    with pytest.raises(TutorError):
        assemble_chunked_gguf(preset, dest, progress=False)
    assert not (dest / "fake.gguf").exists()


def test_interrupted_assembly_leaves_no_half_file(fake_parts, tmp_path, monkeypatch):
    preset, _, _ = fake_parts
    dest = tmp_path / "models"
    dest.mkdir()
    monkeypatch.setattr(model_files, "_BLOCK", 100)  # many small writes, so we can stop midway

    class Stop(KeyboardInterrupt):
        pass

    import tqdm

    real_update = tqdm.tqdm.update
    seen = []

    def update(self, n=1):
        seen.append(n)
        if len(seen) == 15:
            raise Stop  # what Ctrl-C does in the middle of the copy
        return real_update(self, n)

    monkeypatch.setattr(tqdm.tqdm, "update", update)
    with pytest.raises(Stop):
        assemble_chunked_gguf(preset, dest, progress=False)
    assert not (dest / "fake.gguf").exists()
    assert not list(dest.glob("*.part"))


def test_real_parts_are_installed():
    paths = chunk_paths(get_preset("qwen2.5-coder-0.5b"))
    assert [p.name for p in paths] == [f"part{i:02d}.bin" for i in range(1, 7)]
    assert sum(p.stat().st_size for p in paths) == 491_400_064


@pytest.mark.slow
def test_default_model_assembles_with_the_published_checksum(qwen_gguf):
    preset = get_preset("qwen2.5-coder-0.5b")
    assert qwen_gguf.stat().st_size == preset.gguf_parts.size
    digest = hashlib.sha256()
    with qwen_gguf.open("rb") as fh:
        while block := fh.read(1 << 23):
            digest.update(block)
    assert digest.hexdigest() == preset.gguf_parts.sha256
    with qwen_gguf.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
