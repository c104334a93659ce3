"""`tutor finetune data | train | export`: build the SFT set, train a LoRA adapter, convert it for llama.cpp.

    tutor finetune data                                                   # $TUTOR_HOME/finetune/data
    tutor finetune train --config finetune/presets/smoke-smollm2-135m.yaml
    tutor finetune export --run smoke-smollm2-135m                        # <run>/adapter/adapter.gguf

A killed `train` resumes from its last checkpoint when run again with the same preset.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from tutor.errors import TutorError

finetune_app = typer.Typer(help="Fine-tune a tutor adapter: build data, train (QLoRA/LoRA), export to GGUF.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(finetune_app, name="finetune")


@finetune_app.command("data", help="Build the SFT set from the knowledge corpus (deduplicated, split, decontaminated).")
def data_command(
    out: Optional[Path] = typer.Option(None, "--out", help="Output dir (default: $TUTOR_HOME/finetune/data)."),
    seed: int = typer.Option(13, help="Random seed."),
    n_passages: int = typer.Option(3, help="Passages per grounded / abstention item."),
    max_passage_chars: int = typer.Option(300, help="Each passage is cut to this many characters."),
) -> None:
    from pydantic import ValidationError

    from finetune.data import BuildConfig, build
    from finetune.train import data_root
    from tutor.config import get_settings

    try:
        cfg = BuildConfig(seed=seed, n_passages=n_passages, max_passage_chars=max_passage_chars)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise TutorError(f"--{'-'.join(str(x) for x in err['loc']).replace('_', '-')}: {err['msg']}.") from None
    out = out or data_root(get_settings())
    stats = build(out, cfg)
    typer.echo(f"wrote {stats['train']} training and {stats['val']} validation items to {out} "
               f"({stats['dropped_contaminated']} dropped by the decontamination rule); card: {out / 'DATASET_CARD.md'}")


@finetune_app.command("train", help="Train a LoRA adapter with a preset (finetune/presets/*.yaml); resumes after a kill.")
def train_command(
    config: Path = typer.Option(..., "--config", help="A preset file, e.g. finetune/presets/qwen2.5-coder-0.5b.yaml."),
    max_steps: Optional[int] = typer.Option(None, help="Override the preset's max_steps."),
    quantization: Optional[str] = typer.Option(None, help="Override: nf4 (QLoRA) or none (LoRA)."),
    data_dir: Optional[Path] = typer.Option(None, help="Override the data dir."),
) -> None:
    from finetune.config import load_config
    from finetune.train import run

    cfg = load_config(config, max_steps=max_steps, quantization=quantization, data_dir=data_dir)
    summary = run(cfg)
    typer.echo(json.dumps(summary, indent=1))


@finetune_app.command("export", help="Convert a trained adapter to llama.cpp's GGUF LoRA (adapter.gguf beside it).")
def export_command(
    run_name: Optional[str] = typer.Option(None, "--run", help="Run name under $TUTOR_HOME/finetune/runs."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="Or: a peft adapter dir."),
    preset: Optional[str] = typer.Option(None, help="Model preset of the base (default: the run's, else settings')."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output file (default: <adapter>/adapter.gguf)."),
    f16: bool = typer.Option(False, "--f16", help="Store the LoRA tensors as float16 (half the size)."),
) -> None:
    from finetune.export import export_gguf_lora
    from finetune.train import runs_root
    from tutor.config import get_settings
    from tutor.llm.model_files import gguf_path

    settings = get_settings()
    if (run_name is None) == (adapter is None):
        raise TutorError("give exactly one of --run NAME and --adapter DIR.")
    if run_name is not None:
        run_dir = runs_root(settings) / run_name
        adapter = run_dir / "adapter"
        meta_path = run_dir / "train_meta.json"
        if preset is None and meta_path.is_file():
            preset = json.loads(meta_path.read_text()).get("config", {}).get("base_preset")
    assert adapter is not None
    if not adapter.is_dir():
        raise TutorError(f"no adapter at {adapter}; train one with `tutor finetune train`.")
    base = gguf_path(preset or settings.llm_preset, settings)
    summary = export_gguf_lora(adapter, base, out or adapter / "adapter.gguf", dtype="f16" if f16 else "f32")
    typer.echo(f"wrote {summary['path']} ({summary['modules']} LoRA pairs, r={summary['r']}, alpha={summary['alpha']}, "
               f"{summary['bytes'] / 1e6:.1f} MB) for {base.name}")


@finetune_app.command("check", help="Greedy-token agreement: llama.cpp + adapter.gguf against transformers + peft.")
def check_command(
    run_name: str = typer.Option(..., "--run", help="Run name under $TUTOR_HOME/finetune/runs (exported first)."),
    n_tokens: int = typer.Option(24, help="Greedy tokens compared per prompt."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the report here."),
) -> None:
    from finetune.agreement import greedy_agreement
    from finetune.train import runs_root
    from tutor.config import get_settings
    from tutor.llm.model_files import gguf_path

    settings = get_settings()
    run_dir = runs_root(settings) / run_name
    meta_path = run_dir / "train_meta.json"
    if not meta_path.is_file():
        raise TutorError(f"no finished run {run_name!r} under {runs_root(settings)}.")
    meta = json.loads(meta_path.read_text())
    preset, hf_dir = meta["config"].get("base_preset"), Path(meta["base"]["ref"])
    if not preset:
        raise TutorError("the agreement check needs a run trained on a preset's GGUF (base_preset).")
    lora = run_dir / "adapter" / "adapter.gguf"
    if not lora.is_file():
        raise TutorError(f"{lora} is missing; run `tutor finetune export --run {run_name}` first.")
    report = greedy_agreement(gguf_path(preset, settings), hf_dir, run_dir / "adapter", lora, n_tokens=n_tokens)
    if json_path:
        json_path.write_text(json.dumps(report, indent=1))
    typer.echo(f"greedy tokens shared, llama.cpp vs transformers, over {report['prompts']} prompts x {n_tokens}: "
               f"bases {report['base_agreement']:.2f} ({report['base_exact']} identical), "
               f"with the adapter {report['adapter_agreement']:.2f} ({report['adapter_exact']} identical)")
