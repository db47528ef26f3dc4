"""README.md's commands work as written.

Every code block in the README is preceded by ``<!-- readme-test: MODE REASON -->``:

* ``run``: executed here, from a folder laid out as the README assumes (``bundles/sketch`` is the
  tests' bundle, ``../shared/data`` the real data): shell lines with bash, Python with Python;
* ``parse``: too long to run in a test (the reason says which test runs the same thing); each
  ``inkcast`` line is parsed by the real command-line parser and may use no deprecated name;
* ``skip``: not runnable here at all (the network, a unit file); the reason is required.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r"<!-- readme-test: (run|parse|skip)\b ?(.*?) ?-->")


def blocks() -> list[tuple[str, str, str, str]]:
    """(mode, reason, language, code) of each fenced block, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"```(\w*)\n(.*?)```", text, re.S):
        before = text[: m.start()].rstrip().splitlines()[-1]
        tag = TAG.fullmatch(before.strip())
        assert tag, f"README block at offset {m.start()} has no readme-test tag: {m.group(2)[:80]!r}"
        out.append((tag.group(1), tag.group(2), m.group(1), m.group(2)))
    return out


def inkcast_lines(code: str) -> list[list[str]]:
    """The inkcast command lines of a shell block, split as the shell would (comments dropped)."""
    lines = []
    for line in code.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0].endswith("inkcast"):
            lines.append(words[1:])
    return lines


def test_every_block_is_tagged_and_the_guide_is_short():
    modes = [b[0] for b in blocks()]
    assert modes.count("run") >= 2 and len((ROOT / "README.md").read_text().splitlines()) < 250
    for mode, reason, _, _ in blocks():
        assert mode == "run" or len(reason) > 10, f"a {mode} block needs its reason"


@pytest.fixture(scope="module")
def layout(tmp_path_factory, sketch_bundle, data_dir) -> Path:
    """A folder as the README assumes: bundles/sketch and ../shared/data beside it."""
    top = tmp_path_factory.mktemp("readme")
    (top / "shared").mkdir()
    (top / "shared" / "data").symlink_to(data_dir.resolve())
    repo = top / "repo"
    (repo / "bundles").mkdir(parents=True)
    (repo / "bundles" / "sketch").symlink_to(Path(sketch_bundle).resolve())
    return repo


@pytest.mark.parametrize("index", [i for i, b in enumerate(blocks()) if b[0] == "run"])
def test_run_blocks_run_as_written(index, layout):
    _, _, language, code = blocks()[index]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if language == "python":
        r = subprocess.run([sys.executable, "-c", code], cwd=layout, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        assert r.stdout.strip(), "the block printed nothing"
        return
    assert language == "sh"
    for line in code.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        r = subprocess.run(["bash", "-c", line], cwd=layout, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"{line}\n{r.stderr[-3000:]}"
        assert "deprecated" not in r.stderr, f"{line}: {r.stderr}"


@pytest.mark.parametrize("index", [i for i, b in enumerate(blocks()) if b[0] == "parse"])
def test_parse_blocks_use_the_commands_and_options_that_exist(index):
    from inkcast.main import build_parser

    _, _, _, code = blocks()[index]
    lines = inkcast_lines(code)
    assert lines, "a parse block must hold inkcast commands"
    for words in lines:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                build_parser().parse_args(words)
            except SystemExit:
                pytest.fail(f"inkcast {' '.join(words)}: {err.getvalue()}")
        assert "deprecated" not in err.getvalue(), f"inkcast {' '.join(words)}: {err.getvalue()}"
