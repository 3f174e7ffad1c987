"""The training script of `npm run bench:instrument`: an ordinary PyTorch loop that knows nothing of GradLens.

    instrument_train.py lstm|mlp [--blocks N] [--block-steps N]

Trains on the CPU with one thread (forward, loss, backward, clip_grad_norm_,
SGD with momentum) in blocks of steps, alternating two ways of making the same
calls: as any script does (through GradLens's hooks when its bootstrap is
loaded), and straight to PyTorch's own functions, which the hooks name in
``__wrapped__`` (the same calls without the hooks). Without the bootstrap both
ways are the same calls, which measures the noise. Prints the CPU time per
step of each block of each way, as JSON: CPU time of this process, not wall
time, and both ways in one process, because the machine may be shared.
"""

import argparse
import json
import time

import torch
from torch import nn


class Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 128, batch_first=True)
        self.head = nn.Linear(128, 1)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["lstm", "mlp"])
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--block-steps", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    if args.model == "lstm":
        model = Lstm()
        x, y = torch.randn(32, 50, 16), torch.randn(32, 1)
        loss_fn = nn.functional.mse_loss
    else:
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
        loss_fn = nn.functional.cross_entropy
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    unhooked = lambda f: getattr(f, "__wrapped__", f)  # noqa: E731
    plain_backward, plain_clip = unhooked(torch.autograd.backward), unhooked(torch.nn.utils.clip_grad_norm_)

    def hooked_step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    def plain_step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        plain_backward(loss)
        plain_clip(model.parameters(), 1.0)
        type(opt).step(opt)

    for _ in range(10):
        hooked_step()
        plain_step()
    times = {"plain": [], "hooked": []}
    for block in range(args.blocks):
        # ABBA order, so a drift in the machine's speed weighs on both alike.
        for way in (("plain", "hooked") if block % 2 == 0 else ("hooked", "plain")):
            step = plain_step if way == "plain" else hooked_step
            start = time.process_time()
            for _ in range(args.block_steps):
                step()
            times[way].append((time.process_time() - start) / args.block_steps)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
