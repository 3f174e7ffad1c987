"""Fine-tune DistilBERT on IMDB with the Hugging Face Trainer."""
from datasets import load_dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    Trainer,
    TrainingArguments,
)

tokenizer = AutoTokenizer.from_pretrained("distilbert-base-uncased")
dataset = load_dataset("imdb")
tokenized = dataset.map(lambda rows: tokenizer(rows["text"], truncation=True), batched=True)
model = AutoModelForSequenceClassification.from_pretrained("distilbert-base-uncased", num_labels=2)

args = TrainingArguments(
    output_dir="out/imdb",
    learning_rate=5e-5,
    per_device_train_batch_size=16,
    num_train_epochs=2,
    max_grad_norm=1.0,
    logging_steps=50,
    report_to="none",
)
trainer = Trainer(model=model, args=args, train_dataset=tokenized["train"], tokenizer=tokenizer)
trainer.train()
