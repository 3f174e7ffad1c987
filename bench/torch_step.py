"""PyTorch side of `npm run bench:engine`: the same training step as GradLens's
Trainer (forward, MSE on the last step, backward, norm clipping, SGD) on the
CPU, one thread, float32.

Two modes:
  --serve           read one JSON request per line on stdin, answer one JSON
                    line each; bench/engine.ts drives it so that PyTorch's
                    blocks interleave with ours under the same machine load.
  --model/--hidden  one measurement, printed as JSON (for running by hand).

Only Debian's interpreter (/usr/bin/python3) has torch; when the import fails
the first line printed is {"error": ...} and the exit status is 2.
"""

import argparse
import json
import os
import platform
import sys
import time

try:
    import torch
    from torch import nn
except Exception as exc:  # any import failure means "PyTorch unavailable", whatever its cause
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}", "python": sys.executable}), flush=True)
    sys.exit(2)

INPUT, SEQ_LEN, BATCH = 16, 100, 32
MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def blas_library():
    """The BLAS shared object torch loaded: Debian's torch uses whichever libblas
    the alternatives system points at, and reference vs optimised BLAS changes
    its speed several times over, so the report has to say which one ran."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "unknown"


def os_threads():
    """Threads of this process as the kernel counts them: a BLAS that ignored
    the one-thread settings would show here, after its first product."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


class Case:
    """One model kept alive across requests, so warm-up is paid once."""

    def __init__(self, model, hidden):
        self.rnn = MODULES[model](INPUT, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        self.params = list(self.rnn.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.SGD(self.params, lr=0.01)
        self.scale = INPUT ** -0.5

    def step(self):
        """One training step; returns (total seconds, forward+backward seconds)."""
        t0 = time.perf_counter()
        # Fresh batch every step, and the same target as GradLens's 'memory' task.
        x = torch.randn(BATCH, SEQ_LEN, INPUT)
        y = x[:, 0, :].sum(dim=1, keepdim=True) * self.scale
        self.opt.zero_grad()
        t1 = time.perf_counter()
        out, _ = self.rnn(x)
        loss = nn.functional.mse_loss(self.head(out[:, -1]), y)
        loss.backward()
        t2 = time.perf_counter()
        nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        t3 = time.perf_counter()
        return t3 - t0, t2 - t1


def measure(cases, request):
    key = (request["model"], int(request["hidden"]))
    if key not in cases:
        cases[key] = Case(*key)
    case = cases[key]
    for _ in range(int(request.get("warmup", 0))):
        case.step()
    steps = max(1, int(request["steps"]))
    total = fwd_bwd = 0.0
    for _ in range(steps):
        s, fb = case.step()
        total += s
        fwd_bwd += fb
    return {"steps": steps, "step_ms": 1000 * total / steps, "fwd_bwd_ms": 1000 * fwd_bwd / steps, "os_threads": os_threads()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--model", choices=sorted(MODULES), default="rnn")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    info = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "blas": blas_library(),
    }
    cases = {}
    if not args.serve:
        print(json.dumps({**info, **measure(cases, vars(args))}), flush=True)
        return
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = measure(cases, json.loads(line))
        except Exception as exc:  # reported to the driver, which decides what to do
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
