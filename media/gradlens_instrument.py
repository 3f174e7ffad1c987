"""GradLens instrumentation: the gradients of an unmodified PyTorch training script, logged per parameter.

``gradlens run -- python3 train.py ARGS`` (and the VS Code command "GradLens:
Run Training Script with Gradient Logging") put ``media/gradlens_site`` on
PYTHONPATH and name the log in GRADLENS_OUT; that folder's ``sitecustomize``
calls ``activate_from_environment()`` at interpreter start-up, in the script's
process and in every Python process it starts (DataLoader workers,
``torch.multiprocessing.spawn`` ranks, ``torchrun`` workers). Nothing is
imported until the script imports torch; a process that never does pays
nothing.

Once torch is imported, and without touching the script:

- every ``torch.optim.Optimizer`` (the ones Lightning, the Hugging Face
  Trainer and Accelerate create included) writes one native JSON line per
  step: the gradient L2 norm of each parameter (by its ``named_parameters()``
  name) and in total, measured at the script's ``clip_grad_norm_`` /
  ``clip_grad_value_`` call when there is one (so before clipping), else at
  ``optimizer.step()``; the parameters holding NaN or Inf; the loss (the sum of
  the scalar tensors ``backward()`` ran on since the previous step, unscaled
  under AMP); the learning rate of each parameter group; ``max_norm`` /
  ``clip_value`` and whether clipping bit; under a ``GradScaler`` the loss
  scale and how many steps it skipped (norms unscaled);
- every GRADLENS_WEIGHTS_EVERY steps also each parameter's norm after the
  update and its update ratio ``||w_after - w_before|| / ||w_after||``.

The measurements reuse gradlens_logger.py's code (fused norm passes, one
device sync per read), run under ``torch.no_grad()`` on detached tensors, and
touch neither the random number generators nor the gradients: the training's
numbers are bit for bit those of a run without GradLens.

Environment: GRADLENS_OUT (the log; required), GRADLENS_EVERY (log every n-th
step, default 1), GRADLENS_WEIGHTS_EVERY (default 100; 0 never),
GRADLENS_RANKS (``0``, the default: only rank 0 of a ``torch.distributed``
run writes; ``all``: every rank writes ``OUT`` with ``.rank<r>`` before the
extension). A second optimizer that steps writes ``.opt1`` (and so on).
"""

from __future__ import annotations

import atexit
import functools
import gc
import importlib.abc
import importlib.util
import math
import os
import sys
import types
import weakref
from typing import Any, Callable, Dict, List, Optional

_HERE = os.path.dirname(os.path.abspath(__file__))
_PREFIX = "[gradlens]"


def _say(message: str) -> None:
    sys.stderr.write(f"{_PREFIX} {message}\n")
    sys.stderr.flush()


def activate_from_environment() -> None:
    """Starts instrumenting if GRADLENS_OUT names a log; called by gradlens_site/sitecustomize.py."""
    out = os.environ.get("GRADLENS_OUT")
    if not out:
        return
    try:
        every = _whole(os.environ.get("GRADLENS_EVERY", "1"), "GRADLENS_EVERY", 1)
        weights_every = _whole(os.environ.get("GRADLENS_WEIGHTS_EVERY", "100"), "GRADLENS_WEIGHTS_EVERY", 0)
    except ValueError as error:
        _say(f"{error}; gradients are not logged")
        return
    ranks = os.environ.get("GRADLENS_RANKS", "0")
    if ranks not in ("0", "all"):
        _say(f'GRADLENS_RANKS must be "0" or "all", not {ranks!r}; logging rank 0 only')
    activate(out, every=every, weights_every=weights_every, all_ranks=ranks == "all")


def _whole(text: str, name: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise ValueError(f"{name} must be a whole number of at least {least}, not {text!r}")
    return value


_session: Optional["_Session"] = None


def activate(out: str, every: int = 1, weights_every: int = 100, all_ranks: bool = False) -> None:
    """Instruments torch now if it is imported, else the moment it is."""
    global _session
    if _session is not None:
        return
    _session = _Session(os.path.abspath(out), every, weights_every, all_ranks)
    atexit.register(_session.finish)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "optim"):
        _session.instrument(torch)
    else:
        sys.meta_path.insert(0, _TorchImportWatcher(_session.instrument))


class _TorchImportWatcher(importlib.abc.MetaPathFinder):
    """Finds torch through the other finders and runs a callback once torch has finished importing."""

    def __init__(self, then: Callable[[types.ModuleType], None]) -> None:
        self._then = then
        self._done = False

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "torch" or self._done:
            return None
        # Stays in sys.meta_path, answering nothing: removing it here would skip the next finder.
        self._done = True
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _ThenLoader(spec.loader, self._then)
                return spec
        return None


class _ThenLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, then: Callable[[types.ModuleType], None]) -> None:
        self._loader = loader
        self._then = then

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        # torch sees its own loader, as without GradLens.
        module.__loader__ = self._loader
        module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._then(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def _load_logger() -> types.ModuleType:
    """gradlens_logger.py beside this file, under a private name: a copy the user keeps on sys.path is theirs."""
    spec = importlib.util.spec_from_file_location("_gradlens_logger", os.path.join(_HERE, "gradlens_logger.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["_gradlens_logger"] = module
    spec.loader.exec_module(module)
    return module


class _Tracked:
    """What one optimizer's log needs between the hooks of a step."""

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = weakref.ref(optimizer)
        self.steps = 0
        self.skipped = 0
        self.index: Optional[int] = None
        self.out: Any = None  # a _JsonLinesFile, or False on a rank that does not write
        self.names: Dict[int, str] = {}
        self.pending: Optional[Dict[str, Any]] = None
        # The step count when a GradScaler's step() began: unchanged after it, the scaler skipped the step.
        self.steps_at_scaler: Optional[int] = None
        self._ids: frozenset = frozenset()

    def params(self) -> List[Any]:
        optimizer = self.optimizer()
        return [p for group in optimizer.param_groups for p in group["params"]] if optimizer is not None else []

    def holds(self, param: Any) -> bool:
        if id(param) not in self._ids:
            self._ids = frozenset(id(p) for p in self.params())
        return id(param) in self._ids


class _Session:
    def __init__(self, out: str, every: int, weights_every: int, all_ranks: bool) -> None:
        self.out = out
        self.every = every
        self.weights_every = weights_every
        self.all_ranks = all_ranks
        self.torch: Any = None
        self.log: Any = None
        self.tracked: "weakref.WeakKeyDictionary[Any, _Tracked]" = weakref.WeakKeyDictionary()
        self.files: List[Any] = []
        self.losses: List[Any] = []
        self.scalers: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self.in_step = 0
        self.broken = False
        self.warned: set = set()

    # -- installing the hooks ------------------------------------------------------------

    def instrument(self, torch: types.ModuleType) -> None:
        try:
            self.log = _load_logger()
            self.torch = torch
            self._patch(torch)
        except Exception as error:  # never stop the training over its instrumentation
            self.broken = True
            _say(f"cannot instrument PyTorch {getattr(torch, '__version__', '?')} ({error!r}); the script runs without gradient logging")

    def _patch(self, torch: Any) -> None:
        session = self
        optimizer_init = torch.optim.Optimizer.__init__

        # functools.wraps: the wrappers keep the signatures and docs, and __wrapped__ leads to what they wrap.
        @functools.wraps(optimizer_init)
        def __init__(optimizer: Any, *args: Any, **kwargs: Any) -> None:
            optimizer_init(optimizer, *args, **kwargs)
            session.tracker(optimizer)
            if not session.broken and "step" not in vars(optimizer):
                # A bound method, as LR schedulers expect (they wrap step.__func__).
                optimizer.step = types.MethodType(_instrumented_step, optimizer)

        torch.optim.Optimizer.__init__ = __init__

        backward = torch.autograd.backward

        @functools.wraps(backward)
        def autograd_backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
            session.guarded(session.note_backward, tensors)
            return backward(tensors, *args, **kwargs)

        torch.autograd.backward = autograd_backward

        for name, kind in (("clip_grad_norm_", "max_norm"), ("clip_grad_value_", "clip_value")):
            plain = getattr(torch.nn.utils, name)

            @functools.wraps(plain)
            def clip(parameters: Any, *args: Any, _plain: Any = plain, _kind: str = kind, **kwargs: Any) -> Any:
                # The parameters may be a generator: read once, handed on as a list.
                params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
                threshold = args[0] if args else kwargs.get(_kind)
                norm_type = args[1] if len(args) > 1 else kwargs.get("norm_type", 2.0)
                session.guarded(session.at_clip, params, _kind, threshold, norm_type)
                return _plain(params, *args, **kwargs)

            setattr(torch.nn.utils, name, clip)
            setattr(torch.nn.utils.clip_grad, name, clip)

        for scaler_class in _scaler_classes(torch):
            self._patch_scaler(scaler_class)

    def _patch_scaler(self, scaler_class: type) -> None:
        session = self
        scaler_init = scaler_class.__init__
        scaler_step = scaler_class.step

        @functools.wraps(scaler_init)
        def __init__(scaler: Any, *args: Any, **kwargs: Any) -> None:
            scaler_init(scaler, *args, **kwargs)
            session.scalers.add(scaler)

        @functools.wraps(scaler_step)
        def step(scaler: Any, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
            session.guarded(session.before_scaler_step, scaler, optimizer)
            try:
                return scaler_step(scaler, optimizer, *args, **kwargs)
            finally:
                session.guarded(session.after_scaler_step, optimizer)

        scaler_class.__init__ = __init__
        scaler_class.step = step

    def guarded(self, hook: Callable[..., None], *args: Any) -> None:
        """Runs a hook's own work; an error in it stops the logging, never the training."""
        if self.broken:
            return
        try:
            with self.torch.no_grad():
                hook(*args)
        except Exception as error:
            self.broken = True
            self.close_files()
            _say(f"gradient logging stopped after an internal error ({error!r}); the training goes on unchanged")

    # -- the hooks -----------------------------------------------------------------------

    def note_backward(self, tensors: Any) -> None:
        torch = self.torch
        if isinstance(tensors, torch.Tensor) and tensors.numel() == 1:
            self.losses.append(tensors.detach().reshape(()))
            if len(self.losses) > 64:  # backward without a step for a long while: keep their sum
                self.losses = [torch.stack([l.to(torch.float64) for l in self.losses]).sum()]

    def tracker(self, optimizer: Any) -> _Tracked:
        tracked = self.tracked.get(optimizer)
        if tracked is None:
            tracked = self.tracked[optimizer] = _Tracked(optimizer)
        return tracked

    def logs_now(self, tracked: _Tracked) -> bool:
        if tracked.steps % self.every != 0:
            return False
        if tracked.out is None:
            self.open_log(tracked)
        return tracked.out is not False

    def owner(self, params: List[Any]) -> Optional[_Tracked]:
        """The optimizer whose parameters these are (the clipping call does not say)."""
        return next((t for t in list(self.tracked.values()) if params and t.holds(params[0])), None)

    def at_clip(self, params: List[Any], kind: str, threshold: Any, norm_type: Any) -> None:
        tracked = self.owner(params)
        if tracked is None or not self.logs_now(tracked):
            return
        pending = self.pending(tracked)
        self.measure(tracked, params)
        pending.setdefault(kind, float(threshold))
        if kind == "max_norm":
            if float(norm_type) == 2.0:
                total = self.log._total_norm([pending["layers"][id(p)] for p in params if id(p) in pending["layers"]])
                clipped = self.log._norm_clips(total, float(threshold))
            else:
                grads = [p.grad for p in params if p.grad is not None]
                total = self.torch.norm(self.torch.stack([self.torch.norm(g.detach(), float(norm_type)) for g in grads]), float(norm_type)) if grads else None
                clipped = total is not None and not (float(total) <= float(threshold))
        else:
            grads = [p.grad.detach() for p in params if p.grad is not None]
            largest = max((float(g.abs().max()) for g in grads if g.numel() > 0), default=0.0)
            clipped = not (largest <= float(threshold))
        pending["clipped"] = pending.get("clipped", False) or clipped

    def before_scaler_step(self, scaler: Any, optimizer: Any) -> None:
        if not scaler.is_enabled():
            return
        tracked = self.tracker(optimizer)
        tracked.steps_at_scaler = tracked.steps
        if not self.logs_now(tracked):
            return
        if self.log._still_scaled(scaler, optimizer) and not getattr(optimizer, "_step_supports_amp_scaling", False):
            # scaler.step() would unscale_ first itself: the same call, made a moment earlier,
            # so the norms are measured even if the step is then skipped.
            scaler.unscale_(optimizer)
        pending = self.pending(tracked)
        pending["loss_scale"] = self.log._loss_scale(scaler)
        self.measure(tracked, tracked.params())

    def after_scaler_step(self, optimizer: Any) -> None:
        tracked = self.tracked.get(optimizer)
        if tracked is None or tracked.steps_at_scaler is None:
            return
        skipped = tracked.steps == tracked.steps_at_scaler
        tracked.steps_at_scaler = None
        if skipped:
            # optimizer.step() never ran: the scaler found Inf or NaN in the gradients.
            tracked.skipped += 1
            if tracked.pending is not None:
                self.write(tracked)
            else:
                tracked.steps += 1

    def before_step(self, optimizer: Any, closure: bool) -> None:
        tracked = self.tracker(optimizer)
        if not self.logs_now(tracked):
            if not closure:
                self.losses = []
            return
        pending = self.pending(tracked)
        if not closure:
            self.measure(tracked, tracked.params())
        if self.weights_every and tracked.steps % self.weights_every == 0:
            pending["before"] = [(p, p.detach().clone()) for p in tracked.params()]

    def after_closure(self, optimizer: Any) -> None:
        tracked = self.tracker(optimizer)
        if tracked.pending is not None:
            self.measure(tracked, tracked.params())

    def after_step(self, optimizer: Any) -> None:
        tracked = self.tracker(optimizer)
        if tracked.pending is not None:
            self.write(tracked)
        else:
            self.losses = []
            tracked.steps += 1

    # -- measuring and writing -----------------------------------------------------------

    def pending(self, tracked: _Tracked) -> Dict[str, Any]:
        if tracked.pending is None:
            tracked.pending = {"layers": {}, "nonfinite": set()}
        return tracked.pending

    def measure(self, tracked: _Tracked, params: List[Any]) -> None:
        """The gradient norms of the parameters not measured yet this step (before clipping changes them)."""
        pending = self.pending(tracked)
        fresh = [p for p in params if p.grad is not None and id(p) not in pending["layers"]]
        if not fresh:
            return
        log = self.log
        grads = [log._dense(p.grad) for p in fresh]
        reads = log._OneSync()
        reads.add(*log._l2_norms(grads))
        divisor = self.scale_carried(tracked)
        measured = log._gradient_fields([id(p) for p in fresh], grads, reads.read()[0], divisor)
        pending["layers"].update(measured["layers"])
        pending["nonfinite"].update(measured["nonfinite"])

    def scale_carried(self, tracked: _Tracked) -> Optional[float]:
        """The loss scale the gradients still carry: clipping before scaler.unscale_ sees scaled gradients."""
        optimizer = tracked.optimizer()
        for scaler in list(self.scalers):
            if scaler.is_enabled() and self.log._still_scaled(scaler, optimizer):
                scale = float(scaler.get_scale())
                if "scaled" not in self.warned:
                    self.warned.add("scaled")
                    _say(
                        f"gradients measured while still multiplied by the GradScaler's loss scale ({scale:g}): the log divides them by it, "
                        "but clip_grad_norm_ before scaler.unscale_(optimizer) compares the scaled norm with max_norm"
                    )
                return scale if scale > 0 else None
        return None

    def write(self, tracked: _Tracked) -> None:
        pending, tracked.pending = tracked.pending, None
        step = tracked.steps
        tracked.steps += 1
        optimizer = tracked.optimizer()
        if pending is None or optimizer is None:
            return
        torch, log = self.torch, self.log
        params = tracked.params()
        names = self.names(tracked, optimizer)
        losses, self.losses = self.losses, []

        reads = log._OneSync()
        loss_slot = reads.add(torch.stack([l.to(torch.float64) for l in losses])) if losses else None
        scale = pending.get("loss_scale")
        scale_slot = reads.add(scale.reshape(1)) if isinstance(scale, torch.Tensor) else None
        before = pending.get("before")
        weight_slot = update_slot = None
        if before:
            weight_slot = reads.add(*log._l2_norms([p.detach() for p, _ in before]))
            update_slot = reads.add(*log._l2_norms([p.detach() - old for p, old in before]))
        values = reads.read()

        norms = [pending["layers"][id(p)] for p in params if id(p) in pending["layers"]]
        record: Dict[str, object] = {"step": step}
        if scale is not None:
            scale = values[scale_slot][0] if scale_slot is not None else scale
            record["loss_scale"] = scale
            record["skipped"] = tracked.skipped
        if loss_slot is not None:
            # Under a GradScaler backward() ran on loss * scale (a power of two: the division is exact).
            record["loss"] = math.fsum(values[loss_slot]) / (scale if scale else 1.0)
        if norms:
            record["grad_norm"] = log._total_norm(norms)
        lrs = [float(group["lr"]) for group in optimizer.param_groups]
        record["lr"] = lrs[0]
        if len(lrs) > 1:
            record["lr_groups"] = lrs
        for key in ("max_norm", "clip_value", "clipped"):
            if key in pending:
                record[key] = pending[key]
        record["layers"] = {names[id(p)]: pending["layers"][id(p)] for p in params if id(p) in pending["layers"]}
        if before:
            weights = values[weight_slot]
            record["weight_norms"] = {names[id(p)]: w for (p, _), w in zip(before, weights)}
            record["update_ratios"] = {names[id(p)]: (u / w if w > 0 else (0.0 if u == 0 else math.inf)) for (p, _), w, u in zip(before, weights, values[update_slot])}
        record["nonfinite"] = [names[id(p)] for p in params if id(p) in pending["nonfinite"]]
        tracked.out.write(log._ordered(record))

    def names(self, tracked: _Tracked, optimizer: Any) -> Dict[int, str]:
        params = tracked.params()
        if not all(id(p) in tracked.names for p in params):
            tracked.names = _parameter_names(self.torch, optimizer)
        return tracked.names

    def open_log(self, tracked: _Tracked) -> None:
        rank = _rank(self.log)
        if rank != 0 and not self.all_ranks:
            tracked.out = False
            return
        tracked.index = sum(1 for t in self.tracked.values() if t.index is not None)
        base, extension = os.path.splitext(self.out)
        suffix = (f".opt{tracked.index}" if tracked.index else "") + (f".rank{rank}" if self.all_ranks and _world_size(self.log) > 1 else "")
        path = _claim(f"{base}{suffix}{extension or '.jsonl'}")
        tracked.out = self.log._JsonLinesFile(path, "a")
        self.files.append(tracked.out)
        _say(f"logging the gradients of {len(tracked.params())} parameters to {path}" + (f" (every {self.every} steps)" if self.every > 1 else ""))

    def close_files(self) -> None:
        for file in self.files:
            file.close()

    def finish(self) -> None:
        """At exit (a crash included): what was measured of an unfinished step is written, the files closed."""
        if not self.broken:
            for tracked in list(self.tracked.values()):
                if tracked.pending is not None and tracked.out:
                    self.guarded(self.write, tracked)
        self.close_files()
        for file in self.files:
            _say(f"{file.lines} step{'s' if file.lines != 1 else ''} logged to {file.path}")
        if not self.files and self.torch is not None and _main_process() and not os.path.exists(self.out):
            stepped = any(t.steps for t in self.tracked.values())
            if not stepped:
                _say(f"nothing logged: no torch.optim optimizer stepped in this process ({self.out} not written)")


def _instrumented_step(optimizer: Any, *args: Any, **kwargs: Any) -> Any:
    """optimizer.step() with the log's hooks around it; a step inside another (a wrapping optimizer) is not logged twice."""
    session = _session
    if session is None or session.broken or session.in_step:
        return type(optimizer).step(optimizer, *args, **kwargs)
    session.in_step += 1
    try:
        closure = kwargs.get("closure", args[0] if args else None)
        if callable(closure):
            # Lightning steps with a closure that runs backward (and its clipping): measure after it.
            def measured_closure() -> Any:
                result = closure()
                session.guarded(session.after_closure, optimizer)
                return result

            if "closure" in kwargs:
                kwargs = dict(kwargs, closure=measured_closure)
            else:
                args = (measured_closure,) + tuple(args[1:])
        session.guarded(session.before_step, optimizer, callable(closure))
        result = type(optimizer).step(optimizer, *args, **kwargs)
        session.guarded(session.after_step, optimizer)
        return result
    finally:
        session.in_step -= 1


def _scaler_classes(torch: Any) -> List[type]:
    """GradScaler classes whose step() is their own (torch.cuda.amp's subclasses torch.amp's from 2.3)."""
    classes = []
    for module_name in ("torch.amp.grad_scaler", "torch.cuda.amp.grad_scaler"):
        module = sys.modules.get(module_name)
        if module is None:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
        scaler_class = getattr(module, "GradScaler", None)
        if isinstance(scaler_class, type) and "step" in vars(scaler_class) and scaler_class not in classes:
            classes.append(scaler_class)
    return classes


def _parameter_names(torch: Any, optimizer: Any) -> Dict[int, str]:
    """Each parameter's name as ``named_parameters()`` of the model holding it gives it.

    The model is found among the live modules: the one holding most of the
    optimizer's parameters, and of those the shortest name, so wrappers
    (DistributedDataParallel's ``module.``, a trainer's ``_forward_module.``)
    are looked through. A parameter no module holds is ``group<g>.<i>``.
    """
    wanted = {id(p) for group in optimizer.param_groups for p in group["params"]}
    best: Dict[int, tuple] = {}
    for obj in gc.get_objects():
        # type(), not isinstance(): some objects warn when their __class__ is read.
        if not issubclass(type(obj), torch.nn.Module):
            continue
        held = [(name, p) for name, p in obj.named_parameters() if id(p) in wanted]
        for name, p in held:
            rank = (len(held), -len(name), name)
            if id(p) not in best or rank > best[id(p)]:
                best[id(p)] = rank
    names = {key: rank[2] for key, rank in best.items()}
    for g, group in enumerate(optimizer.param_groups):
        for i, p in enumerate(group["params"]):
            names.setdefault(id(p), f"group{g}.{i}")
    return names


def _rank(log: Any) -> int:
    rank = log._distributed_rank()
    return rank if rank is not None else int(os.environ.get("RANK", "0") or 0)


def _world_size(log: Any) -> int:
    if log._distributed_rank() is not None:
        import torch.distributed

        return torch.distributed.get_world_size()
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def _claim(path: str) -> str:
    """Creates the log file; if another process of the run already has it, a file of this process's own."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    base, extension = os.path.splitext(path)
    candidate = path
    for attempt in range(2):
        try:
            with open(candidate, "x", encoding="utf-8"):
                return candidate
        except FileExistsError:
            candidate = f"{base}.pid{os.getpid()}{extension}"
    return candidate


def _main_process() -> bool:
    """Not a DataLoader worker nor a multiprocessing child, which have no optimizer to step."""
    import multiprocessing

    return multiprocessing.parent_process() is None and os.environ.get("RANK", "0") in ("", "0")
