"""Where a harvested object comes from: its distribution's version and its page in the official docs."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.readers.api_docs.walk import Entry

# Curated transformers names → their page in the official docs (checked by hand). Anything
# not listed gets no URL rather than a guessed one.
_TRANSFORMERS_PAGES: dict[str, str] = {
    **dict.fromkeys(
        ["Trainer", "TrainingArguments", "Seq2SeqTrainer", "Seq2SeqTrainingArguments"], "main_classes/trainer"
    ),
    **dict.fromkeys(
        ["TrainerCallback", "TrainerState", "TrainerControl", "EarlyStoppingCallback", "PrinterCallback",
         "ProgressCallback", "TensorBoardCallback"],
        "main_classes/callback",
    ),
    **dict.fromkeys(["pipeline", "Pipeline", "TextGenerationPipeline", "TextClassificationPipeline"],
                    "main_classes/pipelines"),
    "PreTrainedModel": "main_classes/model",
    "PretrainedConfig": "main_classes/configuration",
    **dict.fromkeys(["PreTrainedTokenizer", "PreTrainedTokenizerFast", "PreTrainedTokenizerBase", "BatchEncoding"],
                    "main_classes/tokenizer"),
    **dict.fromkeys(["GenerationConfig", "GenerationMixin"], "main_classes/text_generation"),
    **dict.fromkeys(["BitsAndBytesConfig", "GPTQConfig"], "main_classes/quantization"),
    **dict.fromkeys(["Adafactor", "get_scheduler", "get_linear_schedule_with_warmup",
                     "get_cosine_schedule_with_warmup", "get_constant_schedule_with_warmup"],
                    "main_classes/optimizer_schedules"),
    "set_seed": "internal/trainer_utils",
    **dict.fromkeys(["BertConfig", "BertModel", "BertTokenizer", "BertTokenizerFast",
                     "BertForSequenceClassification"], "model_doc/bert"),
    **dict.fromkeys(["GPT2Config", "GPT2LMHeadModel", "GPT2Tokenizer", "GPT2TokenizerFast"], "model_doc/gpt2"),
    **dict.fromkeys(["LlamaConfig", "LlamaForCausalLM"], "model_doc/llama"),
    "T5ForConditionalGeneration": "model_doc/t5",
    "ViTForImageClassification": "model_doc/vit",
}

# peft objects whose reference page is known; the rest get no URL.
_PEFT_PAGES: dict[str, str] = {
    **dict.fromkeys(
        ["PeftModel", "PeftModelForCausalLM", "PeftModelForSequenceClassification", "PeftModelForSeq2SeqLM",
         "PeftModelForTokenClassification", "PeftModelForQuestionAnswering", "PeftModelForFeatureExtraction"],
        "peft_model",
    ),
    **dict.fromkeys(["PeftConfig", "PromptLearningConfig"], "config"),
    **dict.fromkeys(["LoraConfig", "LoraModel"], "lora"),
}


# --------------------------------------------------------------------------- version & url

_DIST_CACHE: dict[str, list[str]] | None = None


def version_of(mod: types.ModuleType) -> str | None:
    """"<distribution> <version>" for the distribution that ships ``mod``; "Python x.y.z" for
    stdlib; None for a module no installed distribution claims (a local source tree)."""
    top = mod.__name__.split(".")[0]
    if top in sys.stdlib_module_names:
        return f"Python {sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    global _DIST_CACHE
    if _DIST_CACHE is None:
        _DIST_CACHE = importlib.metadata.packages_distributions()
    dists = sorted(set(_DIST_CACHE.get(top, [])))
    dist = _dist_holding(mod, dists) if len(dists) > 1 else (dists[0] if dists else None)
    if dist is None:
        version = getattr(sys.modules.get(top), "__version__", None)
        return f"{top} {version}" if isinstance(version, str) else None
    version = importlib.metadata.version(dist)
    # Drop a local build tag ("2.13.0+cpu"): the API is the same for every build, and a
    # CPU→CUDA switch should not look like new docs to the content-hash ingestion.
    return f"{dist} {version.split('+')[0]}"


def _dist_holding(mod: types.ModuleType, dists: list[str]) -> str | None:
    """Among distributions sharing a namespace (llama_index.*), the one that owns ``mod``'s files."""
    rel = mod.__name__.replace(".", "/") + "/"
    single = mod.__name__.replace(".", "/") + ".py"
    for dist in dists:
        files = importlib.metadata.files(dist) or []
        if any(str(f).startswith(rel) or str(f) == single for f in files):
            return dist
    return dists[0] if dists else None


def url_for(entry: Entry, root: str) -> str | None:
    top = root.split(".")[0]
    path = entry.path
    page_path = entry.owner or path  # methods live on their class's page
    if top == "torch":
        base = "https://pytorch.org/docs/stable"
        if page_path.startswith("torch.utils.data."):
            return f"{base}/data.html#{path}"
        if page_path.startswith("torch.nn.init."):
            return f"{base}/nn.init.html#{path}"
        if page_path.startswith(("torch.nn.", "torch.optim.")):
            anchor = f"#{path}" if entry.owner else ""
            return f"{base}/generated/{page_path}.html{anchor}"
        return None
    if top == "transformers":
        name = page_path.split(".")[1] if page_path.count(".") >= 1 else ""
        page = _TRANSFORMERS_PAGES.get(name)
        if page is None and name.startswith("Auto"):
            page = "model_doc/auto"
        elif page is None and name.startswith("DataCollator"):
            page = "main_classes/data_collator"
        if page is None or page_path != f"transformers.{name}":
            return None
        return f"https://huggingface.co/docs/transformers/{page}#{path}"
    if top == "peft":
        page = _PEFT_PAGES.get(page_path.removeprefix("peft."))
        return f"https://huggingface.co/docs/peft/package_reference/{page}#{path}" if page else None
    if top in sys.stdlib_module_names:
        return f"https://docs.python.org/3/library/{root}.html#{path}"
    return None
