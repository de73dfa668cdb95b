"""`restoria serve`: the real server in a subprocess, driven by headless Debian Chromium and by raw HTTP."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

LIMIT_MB = 1


def find_chromium() -> str:
    """Debian's Chromium, which Playwright drives (no browser download): found on PATH, or the test
    fails saying how to install it, so the browser test can never pass by being skipped."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium not found: install Debian's (apt-get install chromium; .ci/run does this) and rerun", pytrace=False)
    return found


class Server:
    def __init__(self, url: str, workdir: Path) -> None:
        self.url, self.workdir = url, workdir

    def request(self, path: str, data: bytes | None = None, ctype: str = "application/octet-stream") -> tuple[int, dict | bytes]:
        req = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": ctype}, method="POST" if data is not None else "GET")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        return status, json.loads(body) if body[:1] == b"{" else body

    def restore(self, photo: bytes, name: str = "photo.png", **options: object) -> dict:
        status, up = self.request(f"/api/upload?name={name}", photo)
        assert status == 200, up
        status, out = self.request("/api/restore", json.dumps({"photo": up["id"], **options}).encode(), "application/json")
        assert status == 200, out
        return out

    def image(self, url: str) -> np.ndarray:
        status, body = self.request(url)
        assert status == 200
        return np.asarray(Image.open(io.BytesIO(body)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`restoria serve` with the shipped weights, in its own process; its private folder must go at exit."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "400"}
    cmd = [sys.executable, "-c", "from restoria.cli import main; main()", "serve", "--port", str(port), "--max-upload-mb", str(LIMIT_MB)]
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url + "/api/info", timeout=5).read()
            break
        except OSError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
    found = re.search(r"uploads and results in\s+(\S+),", log.read_text())
    assert found, log.read_text()
    srv = Server(url, Path(found.group(1)))
    yield srv
    proc.terminate()
    assert proc.wait(timeout=60) == 0, log.read_text()
    assert not srv.workdir.exists()  # the private folder is deleted on exit


@pytest.fixture(scope="module")
def photo_png(photos: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photos["chelsea"]).convert("L").save(buf, "PNG")  # a gray photo: colour must come from us
    assert len(buf.getvalue()) < LIMIT_MB * 2**20
    return buf.getvalue()


def chroma(rgb: np.ndarray) -> float:
    rgb = rgb.astype(float)
    return float(np.abs(rgb - rgb.mean(-1, keepdims=True)).mean())


def test_page_in_headless_chromium(server: Server, photo_png: bytes, tmp_path: Path) -> None:
    """A person's path: upload, paint the damage, pick stages, restore, slide, download; a bad file is refused."""
    from playwright.sync_api import expect, sync_playwright

    (tmp_path / "chelsea.png").write_bytes(photo_png)
    (tmp_path / "notes.png").write_text("this is not an image")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), headless=True, args=["--no-sandbox"])
        page = browser.new_page(accept_downloads=True)
        page.goto(server.url)
        page.set_input_files("#file", str(tmp_path / "notes.png"))
        expect(page.locator("#error")).to_contain_text("notes.png: not a readable image")
        expect(page.locator("#run")).to_be_disabled()

        page.set_input_files("#file", str(tmp_path / "chelsea.png"))
        expect(page.locator("#status")).to_have_text("451x300")
        expect(page.locator("#error")).to_have_text("")
        box = page.locator("#canvas").bounding_box()
        assert box is not None
        # paint a horizontal stroke across the middle of the photo
        y = box["y"] + box["height"] * 0.5
        page.mouse.move(box["x"] + box["width"] * 0.3, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.7, y, steps=8)
        page.mouse.up()
        page.uncheck("input[name=stage][value=detect]")  # the painted mask alone says where the damage is
        upscale = page.locator("input[name=stage][value=upscale]")
        expect(upscale).not_to_be_checked()  # results keep the input's size unless asked
        if server.request("/api/info")[1]["upscale"]:
            expect(upscale).to_be_enabled()
        else:
            expect(upscale).to_be_disabled()
        page.click("#run")
        expect(page.locator("#result")).to_be_visible(timeout=120_000)
        expect(page.locator("#status")).to_have_text("done: 451x300")
        size = page.evaluate("[...['#after', '#out_mask']].map(s => [document.querySelector(s).naturalWidth, document.querySelector(s).naturalHeight])")
        assert size == [[451, 300], [451, 300]]
        page.fill("#slider", "20")
        assert "20%" in page.evaluate("document.querySelector('#after').style.clipPath")
        with page.expect_download() as dl:
            page.click("#download")
        saved = tmp_path / "download.png"
        dl.value.save_as(saved)
        job = page.locator("#result").get_attribute("data-id")
        browser.close()
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = np.asarray(Image.open(saved))
    assert result.shape == (300, 451, 3)
    assert chroma(result) > 1.0  # the gray photo came back in colour
    mask = server.image(f"/api/files/{job}/mask.png")
    assert mask[150, 135:315].min() == 255  # the painted stroke is the damage mask...
    assert mask[:100].max() == 0 and mask[200:].max() == 0  # ...and nothing far from it is


def test_two_requests_at_once_both_finish(server: Server, photo_png: bytes) -> None:
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda s: server.restore(photo_png, color_strength=s), (0.5, 1.5)))
    assert outs[0]["id"] != outs[1]["id"]
    weak, strong = (chroma(server.image(o["files"]["restored"])) for o in outs)
    assert strong > weak > 0  # each request got its own colour strength, not the other's


def test_natural_colour_per_request(server: Server, photo_png: bytes) -> None:
    """`color_calibration` 1 (the page's "natural colour") mutes the colour of that request only: the
    next request without it gets the server's colour again, pixel for pixel; out of range is a 422."""
    vivid, natural, again = (server.image(server.restore(photo_png, **kw)["files"]["restored"]) for kw in ({}, {"color_calibration": 1.0}, {}))
    assert chroma(natural) < 0.8 * chroma(vivid)
    np.testing.assert_array_equal(again, vivid)
    status, up = server.request("/api/upload?name=photo.png", photo_png)
    status, body = server.request("/api/restore", json.dumps({"photo": up["id"], "color_calibration": 2}).encode(), "application/json")
    assert status == 422


def test_stages_can_be_switched_off(server: Server, photo_png: bytes) -> None:
    gray = np.asarray(Image.open(io.BytesIO(photo_png)))
    out = server.restore(photo_png, stages=["fill"])  # no detection, no painting, no colour
    assert server.image(out["files"]["mask"]).max() == 0
    np.testing.assert_array_equal(server.image(out["files"]["inpainted"]), gray)
    restored = server.image(out["files"]["restored"])
    assert restored.shape == (300, 451, 3) and chroma(restored) == 0
    painted = np.zeros_like(gray)
    painted[100:140, 200:260] = 255
    buf = io.BytesIO()
    Image.fromarray(painted).save(buf, "PNG")
    status, mask = server.request("/api/upload?name=mask.png", buf.getvalue())
    assert status == 200
    out = server.restore(photo_png, mask=mask["id"], stages=["colorize"])  # damage marked, left unfilled, coloured
    np.testing.assert_array_equal(server.image(out["files"]["mask"]), painted)
    np.testing.assert_array_equal(server.image(out["files"]["inpainted"]), gray)
    assert chroma(server.image(out["files"]["restored"])) > 1.0


def test_upscale_stage_when_offered(server: Server, photo_png: bytes) -> None:
    offered = server.request("/api/info")[1]["upscale"]
    if not offered:
        status, body = server.request("/api/restore", json.dumps({"photo": "0" * 32, "stages": ["upscale"]}).encode(), "application/json")
        assert status == 400 and "unknown stage(s): upscale" in body["error"]
        return
    out = server.restore(photo_png, stages=["detect", "fill", "colorize", "upscale"], scale=offered[0])
    assert (out["width"], out["height"]) == (451 * offered[0], 300 * offered[0])
    assert server.image(out["files"]["restored"]).shape == (300 * offered[0], 451 * offered[0], 3)


def test_bad_uploads_are_refused_with_a_clear_message(server: Server) -> None:
    status, body = server.request("/api/upload?name=notes.png", b"hello, I am text")
    assert status == 400 and body["error"].startswith("notes.png: not a readable image")
    assert str(server.workdir) not in body["error"]  # the private folder is not shown
    status, body = server.request("/api/upload?name=big.png", os.urandom(LIMIT_MB * 2**20 + 10))
    assert status == 413 and body["error"] == f"upload is larger than the {LIMIT_MB} MB limit (--max-upload-mb)"
    status, body = server.request("/api/restore", json.dumps({"photo": "../../../etc"}).encode(), "application/json")
    assert status == 404
    status, body = server.request("/api/files/..%2F..%2Fetc/passwd.png")
    assert status == 404
    status, body = server.request("/api/restore", json.dumps({"photo": "0" * 32, "stages": ["sharpen"]}).encode(), "application/json")
    assert status == 400 and "unknown stage(s): sharpen" in body["error"]


def test_private_folder_holds_every_file(server: Server, photo_png: bytes) -> None:
    out = server.restore(photo_png)
    assert stat.S_IMODE(server.workdir.stat().st_mode) == 0o700
    made = {p.name for p in (server.workdir / out["id"]).iterdir()}
    assert made == {"before.png", "mask.png", "enhanced.png", "inpainted.png", "colorized.png", "restored.png"}
