"""GradLens gradient logger: one JSON line per training step, for GradLens to diagnose.

Copy this file next to your training script. It needs only PyTorch (1.13 or
later) and the Python standard library (3.8 or later). To log without changing
the script at all, run it with ``gradlens run -- python3 train.py`` instead,
which loads this same code through gradlens_instrument.py.

Plain loop -- log after ``loss.backward()``, before clipping and ``optimizer.step()``::

    from gradlens_logger import GradLensLogger

    with GradLensLogger("runs/grads.jsonl", model, optimizer=opt, max_norm=1.0) as logger:
        for step, (x, y) in enumerate(batches):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            logger.log(step, loss)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

Mixed precision (``torch.cuda.amp`` / ``torch.amp``) -- unscale first. Until
``scaler.unscale_(opt)`` runs, every gradient is multiplied by the loss scale
(65536 by default), and so would every norm logged::

    logger = GradLensLogger("runs/grads.jsonl", model, optimizer=opt, max_norm=1.0, scaler=scaler)
    ...
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    logger.log(step, loss)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(opt)
    scaler.update()

Given ``scaler=``, the logger also records the loss scale, and if the
gradients are still scaled when ``log()`` runs it warns once and divides the
norms by the scale, so the log stays true. Clipping before ``unscale_`` is
still wrong: it compares the scaled norm with ``max_norm``. Under AMP a step
whose gradients overflowed (``nonfinite`` listed while the loss scale then
halves) is skipped by the scaler: that is fp16 overflow, not an explosion.

PyTorch Lightning -- log in ``on_before_optimizer_step``: Lightning calls it
once per optimizer step (after gradient accumulation), with the gradients
already unscaled under AMP and not clipped yet (``on_after_backward`` is too
early under AMP: still scaled)::

    def on_train_start(self):
        self.gradlens = GradLensLogger("runs/grads.jsonl", self, optimizer=self.trainer.optimizers[0], max_norm=1.0)

    def training_step(self, batch, batch_idx):
        loss = ...
        self.last_loss = loss.detach()
        return loss

    def on_before_optimizer_step(self, optimizer):
        self.gradlens.log(self.global_step, self.last_loss)

    def on_train_end(self):
        self.gradlens.close()

Hugging Face Accelerate -- after ``accelerator.backward(loss)``, under fp16
pass ``scaler=accelerator.scaler`` and log before
``accelerator.clip_grad_norm_(...)`` (which unscales for you: the logger
divides by the scale meanwhile). Hugging Face Trainer already logs the total
``grad_norm`` before clipping in ``trainer_state.json``, which GradLens reads;
its callbacks only see gradients after clipping.

Distributed (DDP): only rank 0 writes, once ``torch.distributed`` is
initialised; other ranks neither compute norms nor create the file. After
DDP's all-reduce every rank holds the same gradients, so rank 0's are the
run's. Wrappers (DistributedDataParallel, DataParallel, ``torch.compile``)
are looked through, so names read as in your model: ``rnn.weight_hh_l0``, not
``module.rnn.weight_hh_l0``. Sharded training (FSDP, ZeRO) holds a shard per
rank, and rank 0's norms would be of its shard only: not supported.

Each line is flushed as it is written, so GradLens can follow a run live::

    {"step": 12, "loss": 3.86, "grad_norm": 0.57, "lr": 40.0, "clipped": false, "max_norm": 1.0,
     "layers": {"rnn.weight_hh_l0": 0.0050, "head.bias": 0.097}, "nonfinite": []}

``grad_norm`` is the total L2 norm before clipping, as ``clip_grad_norm_``
computes it (the norm of the per-parameter norms), in float64. ``layers``
holds each parameter's gradient L2 norm, by ``named_parameters()`` name;
parameters without a gradient are left out. ``nonfinite`` names the
parameters whose gradient holds a NaN or an infinity. Non-finite numbers are
written as Python's json writes them, bare ``NaN`` and ``Infinity``:
GradLens reads them as numbers.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from typing import IO, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.distributed

__all__ = ["GradLensLogger"]

_Number = Union[float, int, torch.Tensor]


class GradLensLogger:
    """Writes one GradLens JSON line per logged step.

    Args:
        path: the JSON-lines file; its folder is created if missing.
        model: the module whose ``named_parameters()`` are logged.
        optimizer: if given, ``lr`` is read from its first parameter group.
        max_norm: the clipping threshold you use, if any; recorded with each
            step together with ``clipped``.
        every: log every n-th step (``step % every == 0``); other calls return
            at once.
        mode: ``"a"`` (the default) appends, so a resumed run continues its
            file (GradLens reads a step that goes back as a restart and keeps
            the later data); ``"w"`` starts the file afresh.
        weight_norms: also record each parameter's L2 norm, under
            ``weight_norms``.
        scaler: the ``GradScaler`` of a mixed-precision run (needs
            ``optimizer``): records ``loss_scale`` and catches gradients that
            were not unscaled yet.
    """

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]"],
        model: torch.nn.Module,
        optimizer: Optional[torch.optim.Optimizer] = None,
        max_norm: Optional[float] = None,
        every: int = 1,
        mode: str = "a",
        weight_norms: bool = False,
        scaler: Optional[object] = None,
    ) -> None:
        if mode not in ("a", "w"):
            raise ValueError(f'mode must be "a" (append) or "w" (truncate), not {mode!r}')
        if every < 1:
            raise ValueError(f"every must be 1 or more, not {every}")
        if scaler is not None and optimizer is None:
            raise ValueError("scaler= needs optimizer=: the scaler keeps its unscale_ state per optimizer")
        self.path = os.fspath(path)
        self.model = model
        self.optimizer = optimizer
        self.max_norm = None if max_norm is None else float(max_norm)
        self.every = every
        self.mode = mode
        self.weight_norms = weight_norms
        self.scaler = scaler
        # Decided at the first log(): the process group is often set up after the logger.
        self._writes: Optional[bool] = None
        self._out = _JsonLinesFile(self.path, mode)
        self._warned: set = set()

    def log(self, step: int, loss: Optional[_Number] = None) -> Optional[dict]:
        """Records this step's gradients; call after backward, before clipping and ``optimizer.step()``.

        Returns the record written, or None when this step or this rank is not logged.
        """
        step = int(step)
        if step % self.every != 0 or not self._rank_writes():
            return None
        with torch.no_grad():
            record = self._record(step, _unwrapped(self.model), loss)
        self._out.write(record)
        return record

    def close(self) -> None:
        self._out.close()

    def __enter__(self) -> "GradLensLogger":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _rank_writes(self) -> bool:
        if self._writes is None:
            self._writes = _distributed_rank() in (None, 0)
        return self._writes

    def _record(self, step: int, module: torch.nn.Module, loss: Optional[_Number]) -> dict:
        with_grad = [(name, p) for name, p in module.named_parameters() if p.grad is not None]
        names = [name for name, _ in with_grad]
        grads = [_dense(p.grad) for _, p in with_grad]
        trainable = [(name, p) for name, p in module.named_parameters() if p.requires_grad] if self.weight_norms else []
        if isinstance(loss, torch.Tensor) and loss.numel() != 1:
            raise ValueError(f"loss must be a single number, not a tensor of shape {tuple(loss.shape)}")
        scale = self._loss_scale()

        reads = _OneSync()
        grad_slot = reads.add(*_l2_norms(grads)) if grads else None
        weight_slot = reads.add(*_l2_norms([p.detach() for _, p in trainable])) if trainable else None
        loss_slot = reads.add(loss.detach().reshape(1)) if isinstance(loss, torch.Tensor) else None
        scale_slot = reads.add(scale.reshape(1)) if isinstance(scale, torch.Tensor) else None
        values = reads.read()

        record: Dict[str, object] = {"step": step}
        if loss is not None:
            record["loss"] = values[loss_slot][0] if loss_slot is not None else float(loss)
        if self.optimizer is not None:
            record["lr"] = float(self.optimizer.param_groups[0]["lr"])
        if self.max_norm is not None:
            record["max_norm"] = self.max_norm
        scale_value: Optional[float] = None
        if scale is not None:
            scale_value = values[scale_slot][0] if scale_slot is not None else scale
            record["loss_scale"] = scale_value
        if weight_slot is not None:
            record["weight_norms"] = dict(zip((name for name, _ in trainable), values[weight_slot]))
        if grad_slot is None:
            self._warn_once("no-grad", "GradLensLogger: no parameter has a gradient; call log() after loss.backward() and before optimizer.zero_grad().")
        else:
            divisor = scale_value if scale_value is not None and self._still_scaled(scale_value) else None
            record.update(_gradient_fields(names, grads, values[grad_slot], divisor))
            if self.max_norm is not None:
                record["clipped"] = _norm_clips(record["grad_norm"], self.max_norm)
        return _ordered(record)

    def _loss_scale(self) -> Union[torch.Tensor, float, None]:
        return None if self.scaler is None else _loss_scale(self.scaler)

    def _still_scaled(self, scale: float) -> bool:
        """Whether the gradients still carry the loss scale; warns once if so, or if the scaler cannot tell."""
        scaled = _still_scaled(self.scaler, self.optimizer)
        if scaled is None:
            self._warn_once("scaler-state", "GradLensLogger: cannot tell from this GradScaler whether the gradients were unscaled; call scaler.unscale_(optimizer) before log().")
            return False
        if not scaled or not scale > 0:
            return False
        self._warn_once(
            "scaled",
            f"GradLensLogger: the gradients are still multiplied by the GradScaler's loss scale ({scale:g}) when log() runs; "
            "the logged norms are divided by it. Call scaler.unscale_(optimizer) before log() and before clip_grad_norm_, "
            "or clipping compares the scaled norm with max_norm.",
        )
        return True

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, stacklevel=2)


# The native format's key order, so lines read alike whoever wrote them.
_KEY_ORDER = (
    "step", "loss", "grad_norm", "lr", "lr_groups", "clipped", "max_norm", "clip_value", "loss_scale", "skipped",
    "layers", "weight_norms", "update_ratios", "nonfinite",
)


def _ordered(record: Dict[str, object]) -> Dict[str, object]:
    return {key: record[key] for key in _KEY_ORDER if key in record}


class _JsonLinesFile:
    """The log file: created (with its folder) at the first record, one flushed line per record."""

    def __init__(self, path: str, mode: str) -> None:
        self.path = path
        self.mode = mode
        self.lines = 0
        self._file: Optional[IO[str]] = None

    def write(self, record: Dict[str, object]) -> None:
        if self._file is None:
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self._file = open(self.path, self.mode, encoding="utf-8")
        self._file.write(json.dumps(record) + "\n")
        # Flushed per line: GradLens tails the file while training runs.
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _distributed_rank() -> Optional[int]:
    """This process's rank once torch.distributed is initialised, else None."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    return None


def _gradient_fields(names: Sequence[str], grads: Sequence[torch.Tensor], norms: List[float], divisor: Optional[float] = None) -> Dict[str, object]:
    """``grad_norm``, ``layers`` and ``nonfinite`` from each gradient's norm (as read by _OneSync);
    ``divisor`` takes a loss scale the gradients still carry out of the norms."""
    nonfinite = _recheck_nonfinite(grads, norms)
    if divisor is not None:
        norms = [norm / divisor for norm in norms]
    return {"grad_norm": _total_norm(norms), "layers": dict(zip(names, norms)), "nonfinite": [names[i] for i in nonfinite]}


def _norm_clips(grad_norm: float, max_norm: float) -> bool:
    # clip_grad_norm_ rescales whenever the norm is not <= max_norm, NaN included.
    return not (grad_norm <= max_norm)


def _loss_scale(scaler: object) -> Union[torch.Tensor, float, None]:
    """A GradScaler's loss scale, as a tensor where the scaler allows it, so it joins the one sync."""
    if not scaler.is_enabled():
        return None
    scale_async = getattr(scaler, "_get_scale_async", None)
    scale = scale_async() if scale_async is not None else None
    return scale if isinstance(scale, torch.Tensor) else float(scaler.get_scale())


def _still_scaled(scaler: object, optimizer: object) -> Optional[bool]:
    """Whether the optimizer's gradients still carry the scaler's loss scale; None if the scaler cannot tell."""
    # GradScaler keeps, per optimizer, whether unscale_ ran since its last update().
    states = getattr(scaler, "_per_optimizer_states", None)
    if not isinstance(states, dict):
        return None
    state = next((states[id(o)] for o in _optimizer_chain(optimizer) if id(o) in states), None)
    stage = state.get("stage") if isinstance(state, dict) else None
    return getattr(stage, "name", None) != "UNSCALED"


class _OneSync:
    """Gathers float64 tensors and reads them back to Python with one device sync."""

    def __init__(self) -> None:
        self._parts: List[torch.Tensor] = []
        self._orders: List[Optional[List[int]]] = []

    def add(self, values: torch.Tensor, order: Optional[List[int]] = None) -> int:
        """Queues values (1-D); ``order[k]`` is where the k-th value belongs in what read() returns."""
        self._parts.append(values)
        self._orders.append(order)
        return len(self._parts) - 1

    def read(self) -> List[List[float]]:
        if not self._parts:
            return []
        device = self._parts[0].device
        flat = torch.cat([part.to(device=device, dtype=torch.float64) for part in self._parts]).tolist()
        out = []
        start = 0
        for part, order in zip(self._parts, self._orders):
            chunk = flat[start : start + part.numel()]
            start += part.numel()
            if order is not None:
                placed = [0.0] * len(chunk)
                for value, index in zip(chunk, order):
                    placed[index] = value
                chunk = placed
            out.append(chunk)
        return out


def _unwrapped(model: torch.nn.Module) -> torch.nn.Module:
    """The user's module inside DDP, DataParallel or torch.compile, so names match their code."""
    while True:
        if isinstance(model, (torch.nn.DataParallel, torch.nn.parallel.DistributedDataParallel)):
            model = model.module
        elif isinstance(getattr(model, "_orig_mod", None), torch.nn.Module):
            model = model._orig_mod
        else:
            return model


def _optimizer_chain(optimizer: object) -> List[object]:
    """The optimizer and those inside it (Accelerate's and Lightning's wrappers hold one):
    GradScaler keys its state by whichever of them went to unscale_."""
    chain = [optimizer]
    while True:
        inner = getattr(chain[-1], "optimizer", None) or getattr(chain[-1], "_optimizer", None)
        if not isinstance(inner, torch.optim.Optimizer) or any(inner is known for known in chain):
            return chain
        chain.append(inner)


def _dense(grad: torch.Tensor) -> torch.Tensor:
    # Sparse gradients (nn.Embedding(sparse=True)): the norm of the stored values, duplicates summed.
    return grad.coalesce().values() if grad.is_sparse else grad.detach()


def _l2_norms(tensors: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, List[int]]:
    """Each tensor's L2 norm, and the input index of each norm.

    Grouped by device and dtype as clip_grad_norm_ does, so each group is one
    fused kernel; the groups' norms come out one group after the other.
    """
    groups: Dict[Tuple[torch.device, torch.dtype], List[int]] = {}
    for index, tensor in enumerate(tensors):
        groups.setdefault((tensor.device, tensor.dtype), []).append(index)
    device = tensors[0].device
    norms = []
    order: List[int] = []
    for indices in groups.values():
        group = [tensors[i] for i in indices]
        group_norms = torch._foreach_norm(group) if hasattr(torch, "_foreach_norm") else [torch.linalg.vector_norm(t) for t in group]
        norms.append(torch.stack(list(group_norms)).to(device=device, dtype=torch.float64))
        order.extend(indices)
    return torch.cat(norms), order


def _recheck_nonfinite(grads: Sequence[torch.Tensor], norms: List[float]) -> List[int]:
    """The indices of gradients holding a NaN or an infinity; fixes overflowed norms in place.

    A norm computed in float32 overflows to inf above ~3e38 (float16: above
    65504) though every element is finite: that is an explosion, whose true
    size is worth having, not a non-finite gradient. Only runs, with one more
    sync, when some norm is not finite.
    """
    suspects = [i for i, norm in enumerate(norms) if not math.isfinite(norm)]
    if not suspects:
        return []
    device = grads[suspects[0]].device
    checks = torch.stack(
        [
            torch.stack([torch.linalg.vector_norm(grads[i], dtype=torch.float64), torch.isfinite(grads[i]).all().double()]).to(device)
            for i in suspects
        ]
    ).tolist()
    nonfinite = []
    for i, (exact_norm, all_finite) in zip(suspects, checks):
        norms[i] = exact_norm
        if not all_finite:
            nonfinite.append(i)
    return nonfinite


def _total_norm(norms: Sequence[float]) -> float:
    """The L2 norm of the per-parameter norms; NaN if any is NaN, as torch.norm gives."""
    if any(math.isnan(norm) for norm in norms):
        return math.nan
    return math.hypot(*norms)
