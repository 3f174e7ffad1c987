"""Training scripts as users write them, for test/python/instrument.test.ts: none of them knows about GradLens.

    train_shapes.py SHAPE [--steps N] [--truth FILE] [--pause SECONDS]

SHAPE: plain (LSTM, Adam), clip (RNN, SGD + StepLR, clip_grad_norm_), value
(clip_grad_value_), explode (an IRNN that overflows to NaN), amp (a
GradScaler loop that unscales, clips, and skips a step whose gradients
overflowed), lightning (a LightningModule under a Lightning-shaped Trainer:
closure steps, gradient accumulation, gradient_clip_val, a wrapper module),
hf (a Hugging Face-shaped Trainer: TrainingArguments, decay/no-decay
parameter groups, warm-up, AcceleratedOptimizer, max_grad_norm, gradient
accumulation), ddp (two gloo ranks under DistributedDataParallel), crash
(raises after 5 steps), nostep (never steps an optimizer), exit (exits at
once with code 3).

The real Lightning, transformers and accelerate are not installable here:
the lightning and hf shapes reproduce, in plain torch, what those libraries
do around optimizer.step() (the call order, the wrappers, the closures).

--truth FILE: each step's gradient norms as this script computes them itself
(float64, per parameter, before clipping), one JSON line per optimizer step,
for the test to compare with GradLens's log. The last stdout line is a JSON
summary: every loss (as repr) and a digest of the final parameters.
"""

import argparse
import dataclasses
import hashlib
import json
import math
import os
import socket
import sys
import time
from datetime import timedelta

import torch
from torch.nn.utils import clip_grad_norm_  # imported by name, as many scripts do

INPUTS, HIDDEN = 4, 16


class Truth:
    def __init__(self, path):
        self.file = open(path.replace("{rank}", ""), "w", encoding="utf-8") if path else None
        self.step = 0

    def record(self, model, loss, **extra):
        """The gradients now (before clipping), computed without GradLens's code."""
        if self.file:
            norms = {name: torch.linalg.vector_norm(p.grad.detach().double()).item() for name, p in model.named_parameters() if p.grad is not None}
            line = {"step": self.step, "loss": float(loss), "layers": norms, "nonfinite": [n for n, p in model.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]}
            line.update(extra)
            self.file.write(json.dumps(line) + "\n")
            self.file.flush()
        self.step += 1

    def weights(self, model, before):
        """After the step: each parameter's norm and ||w_after - w_before|| / ||w_after||."""
        if self.file:
            after = {n: p.detach().double() for n, p in model.named_parameters()}
            old = dict(zip(after, before))
            norms = {n: torch.linalg.vector_norm(w).item() for n, w in after.items()}
            ratios = {n: torch.linalg.vector_norm(w - old[n].double()).item() / norms[n] for n, w in after.items()}
            self.file.write(json.dumps({"after_step": self.step - 1, "weight_norms": norms, "update_ratios": ratios}) + "\n")
            self.file.flush()


class Rnn(torch.nn.Module):
    def __init__(self, cell="rnn", nonlinearity="tanh"):
        super().__init__()
        self.rnn = torch.nn.LSTM(INPUTS, HIDDEN, batch_first=True) if cell == "lstm" else torch.nn.RNN(INPUTS, HIDDEN, batch_first=True, nonlinearity=nonlinearity)
        self.head = torch.nn.Linear(HIDDEN, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


def batch(seq_len=12, size=8):
    x = torch.randn(size, seq_len, INPUTS)
    return x, x[:, :, 0].sum(1, keepdim=True) / math.sqrt(seq_len)


def digest(model):
    h = hashlib.sha256()
    for _, p in model.named_parameters():
        h.update(p.detach().cpu().numpy().tobytes())
    return h.hexdigest()


def plain(args, truth):
    model = Rnn("lstm")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(args.steps):
        x, y = batch()
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        truth.record(model, loss)
        before = [p.detach().clone() for p in model.parameters()]
        opt.step()
        truth.weights(model, before)
        losses.append(loss.item())
    return model, losses


def clipped(args, truth, value=False):
    model = Rnn("rnn", "relu")
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(1.05 * torch.eye(HIDDEN))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    losses = []
    for _ in range(args.steps):
        x, y = batch(20)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        truth.record(model, loss, lr=opt.param_groups[0]["lr"])
        if value:
            torch.nn.utils.clip_grad_value_(model.parameters(), 0.05)
        else:
            clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    return model, losses


def explode(args, truth):
    model = Rnn("rnn", "relu")
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(1.1 * torch.eye(HIDDEN) + 0.01 * torch.randn(HIDDEN, HIDDEN))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = []
    for _ in range(args.steps):
        x, y = torch.rand(8, 20, INPUTS), torch.ones(8, 1)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        truth.record(model, loss)
        opt.step()
        losses.append(loss.item())
        time.sleep(args.pause)
    return model, losses


def cpu_grad_scaler(init_scale):
    """A GradScaler that runs on the CPU: torch.amp's own from PyTorch 2.3; on older PyTorch the
    CUDA one, with only its two CUDA kernels (unscale and the scale update) written in plain torch."""
    try:
        return torch.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=1000)
    except (AttributeError, TypeError, RuntimeError):
        pass
    from unittest import mock

    from torch.cuda.amp.grad_scaler import GradScaler

    class CpuGradScaler(GradScaler):
        def scale(self, outputs):
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            return outputs * self._scale

        def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        found_inf += (~torch.isfinite(p.grad).all()).float()
                        p.grad.mul_(inv_scale)
            return {found_inf.device: found_inf}

        def update(self, new_scale=None):
            found = sum(float(v.sum()) for state in self._per_optimizer_states.values() for v in state["found_inf_per_device"].values())
            if found:
                self._scale.mul_(self._backoff_factor)
            from collections import defaultdict

            from torch.cuda.amp.grad_scaler import _refresh_per_optimizer_state

            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    with mock.patch("torch.cuda.is_available", return_value=True):
        return CpuGradScaler(init_scale=init_scale, growth_interval=1000)


def amp(args, truth):
    model = Rnn("lstm")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = cpu_grad_scaler(1024.0)
    losses = []
    for step in range(args.steps):
        x, y = batch()
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        scaler.scale(loss).backward()
        if step == 3:  # as an fp16 overflow would
            model.head.weight.grad[0, 0] = math.inf
        scale = scaler.get_scale()
        scaler.unscale_(opt)
        truth.record(model, loss, loss_scale=scale)
        clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    return model, losses


# -- Lightning, as its automatic optimization runs a step --------------------------------


class LightningModule(torch.nn.Module):
    global_step = 0


class LitRnn(LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.GRU(INPUTS, HIDDEN, batch_first=True)
        self.decoder = torch.nn.Sequential(torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.decoder(self.encoder(x)[0][:, -1]), y)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=3e-3)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4))}


class _LightningModuleWrapperBase(torch.nn.Module):
    """What Lightning's strategies wrap the module in (names gain "_forward_module.")."""

    def __init__(self, module):
        super().__init__()
        self._forward_module = module

    def forward(self, *args):
        return self._forward_module.training_step(*args)


class LightningOptimizer:
    def __init__(self, optimizer):
        self._optimizer = optimizer

    def step(self, closure):
        return self._optimizer.step(closure=closure)

    def zero_grad(self):
        self._optimizer.zero_grad()


class LightningTrainer:
    def __init__(self, max_steps, accumulate_grad_batches, gradient_clip_val, truth):
        self.max_steps, self.accumulate, self.clip_val, self.truth = max_steps, accumulate_grad_batches, gradient_clip_val, truth
        self.losses = []

    def fit(self, module, batches):
        config = module.configure_optimizers()
        optimizer, scheduler = LightningOptimizer(config["optimizer"]), config["lr_scheduler"]
        wrapped = _LightningModuleWrapperBase(module)
        accumulated = []
        for batch_idx, batch in enumerate(batches):
            def closure():
                loss = wrapped(batch, batch_idx) / self.accumulate
                loss.backward()
                accumulated.append(loss.detach())
                return loss

            if (batch_idx + 1) % self.accumulate != 0:
                closure()
                continue

            def closure_with_clipping():
                # The precision plugin's closure: the step's backward, on_before_optimizer_step, then clipping.
                result = closure()
                self.truth.record(module, sum(float(l) for l in accumulated))
                torch.nn.utils.clip_grad_norm_(module.parameters(), self.clip_val)
                return result

            optimizer.step(closure=closure_with_clipping)
            optimizer.zero_grad()
            scheduler.step()
            self.losses.append(float(sum(accumulated)))
            accumulated.clear()
            module.global_step += 1
            if module.global_step >= self.max_steps:
                return


def lightning(args, truth):
    module = LitRnn()
    batches = [batch() for _ in range(2 * args.steps)]
    trainer = LightningTrainer(max_steps=args.steps, accumulate_grad_batches=2, gradient_clip_val=0.5, truth=truth)
    trainer.fit(module, batches)
    return module, trainer.losses


# -- the Hugging Face Trainer, as it runs a step --------------------------------------------


@dataclasses.dataclass
class TrainingArguments:
    learning_rate: float = 5e-3
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    gradient_accumulation_steps: int = 2
    warmup_steps: int = 3
    max_steps: int = 12


class PreTrainedModel(torch.nn.Module):
    pass


class TinyBertForRegression(PreTrainedModel):
    def __init__(self):
        super().__init__()
        self.embeddings = torch.nn.Module()
        self.embeddings.word_embeddings = torch.nn.Embedding(20, HIDDEN)
        self.embeddings.LayerNorm = torch.nn.LayerNorm(HIDDEN)
        self.encoder = torch.nn.Module()
        self.encoder.layer = torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.GELU(), torch.nn.LayerNorm(HIDDEN)) for _ in range(2)])
        self.regressor = torch.nn.Linear(HIDDEN, 1)

    def forward(self, input_ids, labels):
        h = self.embeddings.LayerNorm(self.embeddings.word_embeddings(input_ids))
        for layer in self.encoder.layer:
            h = h + layer(h)
        return {"loss": torch.nn.functional.mse_loss(self.regressor(h.mean(1)), labels)}


class AcceleratedOptimizer(torch.optim.Optimizer):
    """Accelerate's wrapper: an Optimizer subclass that holds the real one (its __init__ is never called)."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    def zero_grad(self, set_to_none=None):
        self.optimizer.zero_grad()

    def step(self, closure=None):
        self.optimizer.step(closure)


class Accelerator:
    def backward(self, loss):
        loss.backward()

    def clip_grad_norm_(self, parameters, max_norm):
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm)


class HfTrainer:
    def __init__(self, model, args, dataset, truth):
        self.model, self.args, self.dataset, self.truth = model, args, dataset, truth
        self.accelerator = Accelerator()
        self.losses = []

    def create_optimizer(self):
        decay = [p for n, p in self.model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n or ".2." in n)]
        no_decay = [p for n, p in self.model.named_parameters() if n.endswith("bias") or "LayerNorm" in n or ".2." in n]
        groups = [{"params": decay, "weight_decay": self.args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=self.args.learning_rate)

    def train(self):
        optimizer = AcceleratedOptimizer(self.create_optimizer())
        warmup = self.args.warmup_steps
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer.optimizer, lambda s: min(1.0, (s + 1) / warmup))
        accumulated = 0.0
        for i, inputs in enumerate(self.dataset):
            loss = self.model(**inputs)["loss"] / self.args.gradient_accumulation_steps
            self.accelerator.backward(loss)
            accumulated += float(loss)
            if (i + 1) % self.args.gradient_accumulation_steps == 0:
                self.truth.record(self.model, accumulated, lr_groups=[g["lr"] for g in optimizer.param_groups])
                self.accelerator.clip_grad_norm_(self.model.parameters(), self.args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                self.model.zero_grad()
                self.losses.append(accumulated)
                accumulated = 0.0


def hf(args, truth):
    model = TinyBertForRegression()
    training_args = TrainingArguments(max_steps=args.steps)
    dataset = [{"input_ids": torch.randint(0, 20, (4, 6)), "labels": torch.randn(4, 1)} for _ in range(2 * args.steps)]
    trainer = HfTrainer(model, training_args, dataset, truth)
    trainer.train()
    return model, trainer.losses


# -- DistributedDataParallel on two gloo ranks ---------------------------------------------


def ddp_rank(rank, args, port):
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2, timeout=timedelta(seconds=60))
    try:
        torch.manual_seed(0)
        model = torch.nn.parallel.DistributedDataParallel(Rnn("lstm"))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        truth = Truth(args.truth.replace("{rank}", str(rank)) if args.truth else None)
        torch.manual_seed(1 + rank)
        for _ in range(args.steps):
            x, y = batch()
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            truth.record(model.module, loss)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
    finally:
        torch.distributed.destroy_process_group()


def ddp(args):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    torch.multiprocessing.spawn(ddp_rank, args=(args, port), nprocs=2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shape")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--truth")
    parser.add_argument("--pause", type=float, default=0.0, help="explode: seconds between steps, to watch it live")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    if args.shape == "exit":
        sys.exit(3)
    if args.shape == "ddp":
        ddp(args)
        print(json.dumps({"shape": "ddp"}))
        return
    if args.shape == "nostep":
        model = Rnn()
        for _ in range(3):
            x, y = batch()
            torch.nn.functional.mse_loss(model(x), y).backward()
        print(json.dumps({"shape": "nostep"}))
        return
    if args.shape == "crash":
        model = Rnn()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for step in range(args.steps):
            if step == 5:
                raise RuntimeError("the data loader failed at step 5")
            opt.zero_grad()
            x, y = batch()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
        return
    truth = Truth(args.truth)
    shapes = {"plain": plain, "clip": clipped, "value": lambda a, t: clipped(a, t, value=True), "explode": explode, "amp": amp, "lightning": lightning, "hf": hf}
    model, losses = shapes[args.shape](args, truth)
    print(json.dumps({"shape": args.shape, "losses": [repr(l) for l in losses], "digest": digest(model), "names": [n for n, _ in model.named_parameters()]}))


if __name__ == "__main__":
    main()
