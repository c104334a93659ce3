"""What to harvest from packages too big or too odd to walk whole: the curation tables."""

from __future__ import annotations

import re
from collections.abc import Callable

# Packages without ``__all__`` whose useful API lives in submodules users import directly.
EXTRA_SUBMODULES: dict[str, tuple[str, ...]] = {
    "torch.nn": ("functional", "init", "utils"),
}

# Submodules that ``__all__`` lists but that hold internals or deprecated machinery.
SKIP_SUBMODULES = frozenset(
    {
        "torch.utils.data.datapipes",  # torchdata's DataPipes, deprecated and unused in the tutor's world
        "torch.nn.utils.stateless",  # superseded by torch.func.functional_call
    }
)

# transformers: the names a learner or practitioner types, not the ~4,000 model classes.
# The rule: the Auto* entry points, the training loop (Trainer & friends, callbacks,
# schedulers, collators), pipelines, the base model/tokenizer/config classes, generation
# and quantisation configs, and a handful of reference architectures that tutorials
# use by name (BERT, GPT-2, Llama, T5, ViT). Everything else is reachable via the Auto*
# docs or ``tutor ingest --docs transformers.models.<name>``.
_TRANSFORMERS_NAMES = frozenset(
    {
        "Trainer", "TrainingArguments", "Seq2SeqTrainer", "Seq2SeqTrainingArguments",
        "TrainerCallback", "TrainerState", "TrainerControl", "EarlyStoppingCallback",
        "PrinterCallback", "ProgressCallback", "TensorBoardCallback",
        "pipeline", "Pipeline", "TextGenerationPipeline", "TextClassificationPipeline",
        "PreTrainedModel", "PretrainedConfig", "PreTrainedTokenizer", "PreTrainedTokenizerFast",
        "PreTrainedTokenizerBase", "BatchEncoding", "ProcessorMixin", "BatchFeature",
        "GenerationConfig", "GenerationMixin", "StoppingCriteria", "StoppingCriteriaList",
        "MaxLengthCriteria", "LogitsProcessor", "LogitsProcessorList",
        "TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper",
        "BitsAndBytesConfig", "GPTQConfig",
        "set_seed", "enable_full_determinism",
        "BertConfig", "BertModel", "BertTokenizer", "BertTokenizerFast", "BertForSequenceClassification",
        "GPT2Config", "GPT2LMHeadModel", "GPT2Tokenizer", "GPT2TokenizerFast",
        "LlamaConfig", "LlamaForCausalLM", "T5ForConditionalGeneration", "ViTForImageClassification",
        "Adafactor",
    }
)
_TRANSFORMERS_PATTERN = re.compile(
    r"^(Auto(Config|Tokenizer|Processor|ImageProcessor|FeatureExtractor|Model(For\w+)?)"
    r"|DataCollator\w*|get_\w*schedule\w*|\w+Streamer)$"
)

CURATED: dict[str, Callable[[str], bool]] = {
    "transformers": lambda name: name in _TRANSFORMERS_NAMES or bool(_TRANSFORMERS_PATTERN.match(name)),
}

# The ~50 Auto* classes share one from_pretrained/from_config text (each ~20k characters
# of "model type → class" lists). Their class Documents and method index stay; separate
# method Documents only for the Auto* classes tutorials actually use.
_AUTO_WITH_METHOD_DOCS = frozenset(
    {
        "AutoConfig", "AutoTokenizer", "AutoProcessor", "AutoImageProcessor", "AutoModel",
        "AutoModelForCausalLM", "AutoModelForSequenceClassification", "AutoModelForSeq2SeqLM",
        "AutoModelForTokenClassification", "AutoModelForImageClassification",
    }
)

# package → which class paths also get one Document per long method.
METHOD_FILTERS: dict[str, Callable[[str], bool]] = {
    "transformers": lambda path: not path.split(".")[-1].startswith("Auto")
    or path.split(".")[-1] in _AUTO_WITH_METHOD_DOCS,
}
