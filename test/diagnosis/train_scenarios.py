"""Trains small networks with PyTorch and writes their logs as each tool lays them out, for test/diagnosis/scenarios.test.ts.

    train_scenarios.py OUT_DIR SCENARIO

SCENARIO is one of:
  lightning-clipped-rnn  a vanilla RNN with W_hh of spectral radius 3, clipped at 0.5 on every step, whose loss rises;
                         written as Lightning's CSVLogger writes it (lightning_logs/version_0/metrics.csv with
                         grad_2.0_norm columns, hparams.yaml) with the LightningCLI config.yaml beside it
  amp-scaler             a plain PyTorch loop with a dynamic fp16 loss scaler (GradScaler's rule: gradients cast to
                         float16, a step with an overflow skipped and the scale halved, doubled after 50 clean steps)
  fast-spikes            a plain PyTorch MLP on which a few batches are 30x outliers: one-step spikes that recover
  healthy-transformer    a small transformer encoder with AdamW and a linear warm-up, written as the Hugging Face
                         Trainer's trainer_state.json (the Trainer clips at max_grad_norm=1.0 by default)
"""

import json
import math
import os
import sys

import torch

OUT, SCENARIO = sys.argv[1], sys.argv[2]
torch.manual_seed(0)


def total_norm(parameters) -> float:
    return math.sqrt(sum(float(p.grad.detach().norm()) ** 2 for p in parameters if p.grad is not None))


def lightning_clipped_rnn() -> None:
    hidden, steps = 24, 240
    rnn = torch.nn.RNN(4, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 1)
    with torch.no_grad():
        q, _ = torch.linalg.qr(torch.randn(hidden, hidden))
        rnn.weight_hh_l0.copy_(3.0 * q)
    params = {f"model.rnn.{n}": p for n, p in rnn.named_parameters()} | {f"model.head.{n}": p for n, p in head.named_parameters()}
    optimizer = torch.optim.SGD(list(params.values()), lr=2.0)
    log_dir = os.path.join(OUT, "lightning_logs", "version_0")
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, "hparams.yaml"), "w") as f:
        f.write("hidden: 24\nlr: 2.0\n")
    with open(os.path.join(log_dir, "config.yaml"), "w") as f:
        f.write("trainer:\n  max_steps: 240\n  gradient_clip_val: 0.5\n  gradient_clip_algorithm: norm\n  precision: 32-true\nmodel:\n  hidden: 24\n")
    names = sorted(params)
    with open(os.path.join(log_dir, "metrics.csv"), "w") as f:
        f.write(",".join(["epoch", *[f"grad_2.0_norm/{n}" for n in names], "grad_2.0_norm_total", "step", "train_loss"]) + "\n")
        for step in range(steps):
            x = torch.randn(16, 30, 4)
            y = x[:, :5, 0].sum(dim=1, keepdim=True)
            loss = torch.nn.functional.mse_loss(head(rnn(x)[0][:, -1]), y)
            optimizer.zero_grad()
            loss.backward()
            norms = [float(params[n].grad.norm()) for n in names]
            total = math.sqrt(sum(v * v for v in norms))
            # Lightning logs the norms in on_before_optimizer_step, before the Trainer clips.
            torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm=0.5)
            optimizer.step()
            f.write(",".join(str(v) for v in [step // 60, *norms, total, step, float(loss)]) + "\n")


def amp_scaler() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scale, clean = 2.0**18, 0
    with open(os.path.join(OUT, "train.jsonl"), "w") as f:
        for step in range(300):
            x = torch.randn(32, 16)
            y = x[:, :4].sum(dim=1, keepdim=True)
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            (loss * scale).backward()
            overflow = False
            for p in model.parameters():
                half = p.grad.to(torch.float16)
                overflow |= not bool(torch.isfinite(half).all())
                p.grad.copy_(half.float() / scale)
            norm = float("inf") if overflow else total_norm(model.parameters())
            if overflow:
                scale, clean = scale / 2, 0
            else:
                optimizer.step()
                clean += 1
                if clean == 50:
                    scale, clean = scale * 2, 0
            f.write(json.dumps({"step": step, "loss": float(loss), "grad_norm": "Infinity" if overflow else norm, "loss_scale": scale}).replace('"Infinity"', "Infinity") + "\n")


def fast_spikes() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    outliers = {120, 200, 260}
    with open(os.path.join(OUT, "train.jsonl"), "w") as f:
        for step in range(320):
            x = torch.randn(64, 16)
            y = x[:, :4].sum(dim=1, keepdim=True)
            if step in outliers:
                x = x * 30
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            norm = total_norm(model.parameters())
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            f.write(json.dumps({"step": step, "loss": float(loss), "grad_norm": norm, "max_norm": 5.0}) + "\n")


def healthy_transformer() -> None:
    vocab, width, steps, warmup = 32, 32, 300, 30
    embed = torch.nn.Embedding(vocab, width)
    encoder = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(width, 4, 64, dropout=0.0, batch_first=True), 2)
    head = torch.nn.Linear(width, vocab)
    parameters = [*embed.parameters(), *encoder.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=1e-3)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))
    history = []
    for step in range(1, steps + 1):
        tokens = torch.randint(0, vocab, (16, 12))
        # Predict the previous token: learnable, so the loss falls.
        target = torch.roll(tokens, 1, dims=1)
        logits = head(encoder(embed(tokens)))
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(parameters, max_norm=1.0))
        lr = schedule.get_last_lr()[0]
        optimizer.step()
        schedule.step()
        history.append({"epoch": step / 100, "grad_norm": norm, "learning_rate": lr, "loss": float(loss), "step": step})
    with open(os.path.join(OUT, "trainer_state.json"), "w") as f:
        json.dump({"global_step": steps, "epoch": steps / 100, "log_history": history, "logging_steps": 1, "max_steps": steps}, f, indent=2)


{"lightning-clipped-rnn": lightning_clipped_rnn, "amp-scaler": amp_scaler, "fast-spikes": fast_spikes, "healthy-transformer": healthy_transformer}[SCENARIO]()
