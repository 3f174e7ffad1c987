"""Fine-tune a sequence classifier with Hugging Face Accelerate."""
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup
from gradlens_logger import GradLensLogger


def main(dataset, epochs=3):
    accelerator = Accelerator(gradient_accumulation_steps=4)
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
    optimizer = torch.optim.AdamW(params=model.parameters(), lr=2e-5)
    loader = DataLoader(dataset, batch_size=32, shuffle=True)
    scheduler = get_linear_schedule_with_warmup(optimizer, 100, len(loader) * epochs)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    grad_logger = GradLensLogger("gradlens.jsonl", model, optimizer=optimizer, max_norm=1.0)
    grad_logger_step = 0
    for epoch in range(epochs):
        model.train()
        for batch in loader:
            with accelerator.accumulate(model):
                outputs = model(**batch)
                loss = outputs.loss
                accelerator.backward(loss)
                grad_logger.log(grad_logger_step, loss)
                grad_logger_step += 1
                accelerator.clip_grad_norm_(model.parameters(), max_norm=1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
        accelerator.print(f"epoch {epoch} done")
