"""GradLens's start-up hook: on PYTHONPATH (``gradlens run`` puts it there), Python runs it in every process it starts.

With GRADLENS_OUT set it loads ../gradlens_instrument.py, which logs the
gradients of the torch optimizers the script steps (see that file). Then it
runs the sitecustomize this one hides (Debian's, a virtual environment's), as
Python would have without GradLens.
"""

import importlib.machinery
import importlib.util
import os
import sys


def _gradlens_start() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    if os.environ.get("GRADLENS_OUT"):
        try:
            spec = importlib.util.spec_from_file_location("gradlens_instrument", os.path.join(os.path.dirname(here), "gradlens_instrument.py"))
            module = importlib.util.module_from_spec(spec)
            sys.modules["gradlens_instrument"] = module
            spec.loader.exec_module(module)
            module.activate_from_environment()
        except Exception as error:  # the script must run whatever happens here
            sys.stderr.write(f"[gradlens] cannot load the instrumentation ({error!r}); the script runs without gradient logging\n")
    others = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    hidden = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if hidden is not None and hidden.loader is not None:
        module = importlib.util.module_from_spec(hidden)
        hidden.loader.exec_module(module)


_gradlens_start()
