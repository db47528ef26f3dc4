"""``--local-workers N``: a TF_CONFIG cluster of N worker processes on 127.0.0.1, supervised.

Every worker runs the same ``inkcast train sketch`` command with its own ``TF_CONFIG`` (the
standard way: the cluster's addresses and this worker's index), exactly as on N machines. The
supervisor prefixes each worker's output with its index and restarts the whole cluster when a
worker dies: with ``MultiWorkerMirroredStrategy`` the survivors cannot go on without it (their
collective ops fail), so a restart of all of them, each restoring the last epoch's backup
(``BackupAndRestore``), is how a multi-worker run survives a lost worker -- what a cluster
scheduler (a Kubernetes Job, Ray Train) does on real machines. No TensorFlow is imported here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Sequence

from inkcast.runtime import errors
from inkcast.runtime.errors import InkcastError

# the exit statuses of a command refused as given (inkcast.main.exit_code): restarting cannot help
REFUSALS = (errors.EXIT_USAGE, errors.EXIT_BAD_INPUT, errors.EXIT_BUNDLE_REFUSED, errors.EXIT_EXPORT_REFUSED,
            errors.EXIT_MISSING_EXTRA)


def free_ports(n: int) -> list[int]:
    """n TCP ports free on 127.0.0.1 now (held open together, so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tf_config(addresses: Sequence[str], index: int) -> str:
    """The TF_CONFIG of worker ``index`` of a cluster of workers at ``addresses``."""
    return json.dumps({"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}})


def without_option(argv: Sequence[str], option: str) -> list[str]:
    """``argv`` less ``option VALUE`` / ``option=VALUE``."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == option:
            skip = True
        elif not a.startswith(option + "="):
            out.append(a)
    return out


def _pump(stream, prefix: str) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{prefix}{line}")
        sys.stdout.flush()


def run_local_workers(argv: Sequence[str], workers: int, max_restarts: int = 3) -> int:
    """Run ``inkcast <argv>`` as ``workers`` processes of one cluster; restart them all (up to
    ``max_restarts`` times) when one dies. Returns 0 when every worker finished."""
    if workers < 1:
        raise InkcastError(f"--local-workers must be at least 1, got {workers}")
    for attempt in range(max_restarts + 1):
        addresses = [f"127.0.0.1:{p}" for p in free_ports(workers)]
        procs = []
        for i in range(workers):
            env = {**os.environ, "TF_CONFIG": tf_config(addresses, i), "PYTHONUNBUFFERED": "1"}
            p = subprocess.Popen([sys.executable, "-m", "inkcast", *argv], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
            threading.Thread(target=_pump, args=(p.stdout, f"[worker {i}] "), daemon=True).start()
            print(f"[cluster] worker {i} pid {p.pid} at {addresses[i]}" + (f" (restart {attempt})" if attempt else ""),
                  flush=True)
            procs.append(p)
        failed = None
        while failed is None and any(p.poll() is None for p in procs):
            failed = next((i for i, p in enumerate(procs) if p.poll() not in (None, 0)), None)
            time.sleep(0.2)
        if failed is None:
            failed = next((i for i, p in enumerate(procs) if p.returncode != 0), None)
        if failed is None:
            return 0
        code = procs[failed].returncode
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        final = code in REFUSALS  # a usage error or a refusal: every restart would end the same way
        for p in procs:  # the others cannot finish without it
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        time.sleep(0.5)  # let the pumps print what the workers said last
        if final:
            print(f"[cluster] worker {failed} refused the command ({how}); not restarting", flush=True)
            return code
        if attempt == max_restarts:
            print(f"[cluster] worker {failed} ended ({how}); no restarts left", flush=True)
            return 1
        print(f"[cluster] worker {failed} ended ({how}): restarting all {workers} workers from the last backup",
              flush=True)
    return 1
