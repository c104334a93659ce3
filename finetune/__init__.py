"""QLoRA fine-tuning of the tutor model (peft + bitsandbytes). Not built yet."""
