"""A nanoGPT-style training loop: gradient accumulation, bf16/fp16 autocast, cosine learning rate."""
import math
import time

import torch
from model import GPT, GPTConfig
from gradlens_logger import GradLensLogger

gradient_accumulation_steps = 8
grad_clip = 1.0
max_iters = 5000
learning_rate = 6e-4
device_type = "cuda"
ctx = torch.amp.autocast(device_type=device_type, dtype=torch.float16)

model = GPT(GPTConfig(n_layer=12, n_head=12, n_embd=768))
optimizer = model.configure_optimizers(0.1, learning_rate, (0.9, 0.95), device_type)
scaler = torch.cuda.amp.GradScaler(enabled=True)


def get_lr(it):
    return learning_rate * 0.5 * (1.0 + math.cos(math.pi * it / max_iters))


def get_batch(split):
    data = torch.randint(0, 50304, (12, 1025))
    return data[:, :-1], data[:, 1:]


X, Y = get_batch("train")
t0 = time.time()
grad_logger = GradLensLogger("gradlens.jsonl", model, optimizer=optimizer, max_norm=grad_clip, scaler=scaler)
for iter_num in range(max_iters):
    for param_group in optimizer.param_groups:
        param_group["lr"] = get_lr(iter_num)
    for micro_step in range(gradient_accumulation_steps):
        with ctx:
            logits, loss = model(X, Y)
            loss = loss / gradient_accumulation_steps
        X, Y = get_batch("train")
        scaler.scale(loss).backward()
    grad_logger.log(iter_num, loss)
    if grad_clip != 0.0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    if iter_num % 100 == 0:
        print(f"iter {iter_num}: loss {loss.item() * gradient_accumulation_steps:.4f}, {time.time() - t0:.1f}s")
