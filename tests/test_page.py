"""The live drawing page in a real browser (Playwright driving Debian's Chromium, /usr/bin/chromium):
real test drawings, and drawings of categories the model never learned, drawn with pointer events in
both modes; the page's top-1 and its answer (a label or "I'm not sure") must be the Python runtime's
for the very strokes the page recorded, and the page lists the categories it knows."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("INKCAST_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
DRAWINGS = 20
UNKNOWN = 6  # drawings of categories the model never learned, per mode

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen) -> None:
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args} exited: {proc.stdout.read()[-2000:] if proc.stdout else ''}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer")


@pytest.fixture(scope="module")
def static_site(sketch_bundle, tmp_path_factory):
    """The page as a plain static folder (no inkcast server): web files, onnxruntime-web, the bundle."""
    if not (WEB / "node_modules" / "onnxruntime-web").is_dir():
        pytest.skip("web/node_modules is missing (cd web && npm ci)")
    site = tmp_path_factory.mktemp("site")
    for name in ("index.html", "app.js"):
        shutil.copy(WEB / name, site / name)
    shutil.copytree(WEB / "inkcast", site / "inkcast")
    (site / "node_modules").symlink_to(WEB / "node_modules")
    shutil.copytree(sketch_bundle, site / "bundle")
    port = free_port()
    p = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(site)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/index.html?mode=browser"
    wait_http(url, p)
    yield url
    p.terminate()


@pytest.fixture(scope="module")
def served_page(sketch_bundle):
    port = free_port()
    p = subprocess.Popen([sys.executable, "-c", "import sys; from inkcast.main import main; sys.exit(main())",
                          "serve", str(sketch_bundle), "--port", str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/v1/health", p)
    yield f"http://127.0.0.1:{port}/"
    p.terminate()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def draw(page, drawing) -> None:
    box = page.locator("#pad").bounding_box()
    k = (box["width"] - 40) / 255.0
    for xs, ys in drawing:
        pts = [(box["x"] + 20 + x * k, box["y"] + 20 + y * k) for x, y in zip(xs, ys)]
        page.mouse.move(*pts[0])
        page.mouse.down()
        for p in pts[1:]:
            page.mouse.move(*p, steps=3)
        page.mouse.up()


def settled(page) -> tuple[str, str]:
    """(top-1, answer) once the page has recognized the whole drawing; the answer is 'unknown' for
    "I'm not sure"."""
    page.wait_for_function("document.body.dataset.busy === '' && document.body.dataset.updates", timeout=30_000)
    page.wait_for_timeout(50)
    page.wait_for_function("document.body.dataset.busy === ''", timeout=30_000)
    return page.evaluate("document.body.dataset.top1"), page.evaluate("document.body.dataset.label")


def run_mode(browser, url, drawings, sketch_bundle, shot: Path | None = None):
    from inkcast.runtime import SketchRecognizer

    rec = SketchRecognizer(sketch_bundle, backend="onnx")
    page = browser.new_page(viewport={"width": 900, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready === '1' && document.body.dataset.known")
    assert page.evaluate("document.body.dataset.known").split(",") == rec.labels
    assert page.inner_text("#known").startswith("I know: " + ", ".join(rec.labels))
    agree, unsure = 0, 0
    for d in drawings:
        page.click("#clear")
        draw(page, d)
        top1, label = settled(page)
        strokes = page.evaluate("window.inkcast.strokes()")
        want = rec.recognize(strokes)  # Python on the very points the page recorded
        assert top1 == want.top_k[0][0], (top1, want, page.inner_text("#status"))
        assert label == (want.label or "unknown"), (label, want)
        if not want.known:
            assert page.inner_text("#answer") == "I'm not sure what that is."
            unsure += 1
        agree += 1
    if shot is not None:
        page.screenshot(path=str(shot))
    status = page.inner_text("#status")
    page.close()
    assert not errors, errors
    return agree, unsure, status


def test_in_browser_mode_matches_python(browser, static_site, sketch_bundle, test_drawings, unknown_drawings, tmp_path):
    drawings = [r["drawing"] for r in test_drawings[:: max(1, len(test_drawings) // DRAWINGS)][:DRAWINGS]]
    drawings += unknown_drawings[:UNKNOWN]
    agree, unsure, status = run_mode(browser, static_site, drawings, sketch_bundle, tmp_path / "browser.png")
    assert agree == len(drawings) and unsure >= 1
    assert status.startswith("browser:") and "ms for the last update" in status
    print(f"in-browser: {agree}/{len(drawings)} answers equal to Python ({unsure} 'not sure'); {status}")


def test_server_mode_matches_python(browser, served_page, sketch_bundle, test_drawings, unknown_drawings, tmp_path):
    drawings = [r["drawing"] for r in test_drawings[1:: max(1, len(test_drawings) // DRAWINGS)][:DRAWINGS]]
    drawings += unknown_drawings[UNKNOWN : 2 * UNKNOWN]
    agree, unsure, status = run_mode(browser, served_page, drawings, sketch_bundle,
                                     Path(os.environ["INKCAST_SCREENSHOT"]) if os.environ.get("INKCAST_SCREENSHOT") else None)
    assert agree == len(drawings) and unsure >= 1 and status.startswith("server:")
    print(f"server: {agree}/{len(drawings)} answers equal to Python ({unsure} 'not sure'); {status}")
