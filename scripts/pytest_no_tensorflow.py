"""pytest plugin for running the test suite where only the runtime is installed (no TensorFlow).

``scripts/check-aarch64.sh`` loads it (``-p pytest_no_tensorflow``) inside the emulated aarch64
root, which has the runtime wheel (NumPy, ai-edge-litert, onnxruntime) and no training stack. A
test that needs the training/export stack fails there with ``ModuleNotFoundError`` naming one of
``TRAIN_ONLY``; this plugin reports such a test (or test module) as *skipped, needs the train
extra* instead of failed. The same holds for a test whose failure message shows a child process
(e.g. ``python -m inkcast demo``) dying of such an import made inside ``inkcast/training/`` or
``inkcast/export/``. Everything else fails as usual, and so does a missing TensorFlow module
whose import was attempted from inside ``inkcast/runtime/``: the runtime must never need it.
"""

from __future__ import annotations

import re

import pytest

from inkcast import HEAVY_MODULES

# Import names that only the `train` extra provides (pyproject.toml).
TRAIN_ONLY = set(HEAVY_MODULES) | {"onnx", "statsmodels", "matplotlib", "psutil"}


def _train_only_missing(excinfo) -> str | None:
    """The missing train-only module behind this error, unless the runtime itself asked for it."""
    if excinfo is None:
        return None
    exc = excinfo.value
    seen = set()
    while exc is not None and id(exc) not in seen:  # collection wraps the ImportError
        seen.add(id(exc))
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in TRAIN_ONLY:
            tb = exc.__traceback__
            while tb is not None:
                fname = tb.tb_frame.f_code.co_filename.replace("\\", "/")
                if "/inkcast/runtime/" in fname:
                    return None  # the runtime tried to import it: a real failure
                tb = tb.tb_next
            return exc.name
        exc = exc.__cause__ or exc.__context__
    return None


_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z0-9_]+)")


def _missing_from_longrepr(text: str, need_train_frame: bool) -> str | None:
    """A train-only module named missing in a failure's text (collection error or child traceback)."""
    if "/inkcast/runtime/" in text:
        return None
    if need_train_frame and not re.search(r"/inkcast/(training|export)/", text):
        return None
    for m in _NO_MODULE.finditer(text):
        if m.group(1) in TRAIN_ONLY:
            return m.group(1)
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.excinfo is not None:
        name = _train_only_missing(call.excinfo) or _missing_from_longrepr(str(rep.longrepr), need_train_frame=True)
        if name:
            rep.outcome = "skipped"
            rep.longrepr = (str(item.path), item.location[1] or 0,
                            f"needs the train extra (no module {name!r} in the runtime-only install)")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        name = _missing_from_longrepr(str(rep.longrepr), need_train_frame=False)
        if name:
            rep.outcome = "skipped"
            rep.longrepr = (str(collector.path), 0,
                            f"needs the train extra (no module {name!r} in the runtime-only install)")
            rep.result = []
