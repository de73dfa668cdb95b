"""`restoria serve`: a web page to restore one photo at a time (FastAPI + one self-contained HTML page).

Why not gradio: its releases require pillow<13 while restoria pins pillow 13, and it brings a large
front-end that wants fonts and analytics from the internet. This page has no outside resources.

Safety: uploads are streamed into one private temporary folder (mode 0700) with a byte limit and must
decode as images (Pillow, never the file name); results are written there too and served only by
(job id, fixed file name), so no request can name any other path. One Restorer is loaded once and used
under a lock, so requests that arrive together are restored one after the other and all finish.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal
from typing import Any, Literal

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from restoria.commands.restore import load_mask
from restoria.inference.restorer import STAGE_FILES, STAGES, Restorer
from restoria.inference.upscaler import Upscaler
from restoria.io import InputError, read_image, write_png
from restoria.weights import default_weights

OUTPUTS = ("before", *STAGE_FILES.values())  # the photo, then each stage's output (upscale: the result)
_ID = re.compile(r"^[0-9a-f]{32}$")
UPLOAD = "upload"  # the stored name of an uploaded file: never the client's name
KEEP_ENTRIES = 64  # uploads + results kept in the private folder; older ones are deleted
DRAIN_FACTOR = 8  # a body up to 8x the limit is read (not stored) before the 413, so the client can read it


def upscale_scales() -> list[int]:
    """The factors the page can offer: those whose super-resolution weights are shipped (checked at
    startup, not assumed)."""
    return [s for s in (2, 4) if default_weights(f"sr_x{s}.safetensors").exists()]


class RestoreRequest(BaseModel):
    """What the page asks for: an uploaded photo, an optional painted mask, stages and fidelity."""

    photo: str
    mask: str | None = None
    stages: list[str] = Field(default_factory=lambda: [s for s in STAGES if s != "upscale"])
    color_strength: float = Field(1.0, ge=0.0, le=3.0)
    color: Literal["auto", "keep", "colorize"] = "auto"  # Restorer.colour_mode
    # Restorer.use_color_calibration: 1 mutes what the colorizer is unsure of (None: the server's setting)
    color_calibration: float | None = Field(None, ge=0.0, le=1.0)
    scale: int | None = None  # with the "upscale" stage: 2 or 4 (default: the smallest offered)


class TooLarge(Exception):
    """A request body grew past the upload limit while it was being read."""


class LimitBody:
    """ASGI middleware: refuse request bodies over `limit` bytes (413), by header and while streaming."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            if int(length) <= DRAIN_FACTOR * self.limit:  # read and drop it, so the client sees our answer
                while (await receive()).get("more_body", False):
                    pass
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLarge
            return message

        await self.app(scope, counted, send)  # TooLarge raised in `counted` is answered by too_large() below

    async def _refuse(self, scope: dict, receive: Callable, send: Callable) -> None:
        await too_large_response(self.limit)(scope, receive, send)


def too_large_response(limit: int) -> JSONResponse:
    return JSONResponse({"error": f"upload is larger than the {limit / 2**20:g} MB limit (--max-upload-mb)"}, status_code=413)


@dataclass
class Workspace:
    """The private folder: every upload and result lives here and nowhere else."""

    root: Path
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new(self) -> tuple[str, Path]:
        """A fresh entry folder (oldest entries pruned beyond KEEP_ENTRIES)."""
        with self.lock:
            entries = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
            for old in entries[: max(0, len(entries) - KEEP_ENTRIES + 1)]:
                shutil.rmtree(old, ignore_errors=True)
            key = uuid.uuid4().hex
            folder = self.root / key
            folder.mkdir(mode=0o700)
            return key, folder

    def get(self, key: str, name: str) -> Path:
        """The file `name` of entry `key`; 404 for anything not made here (ids are checked, not joined blindly)."""
        if not _ID.match(key) or name not in OUTPUTS + (UPLOAD,):
            raise HTTPException(404, "no such file")
        path = self.root / key / (name if name == UPLOAD else f"{name}.png")
        if not path.is_file():
            raise HTTPException(404, "no such file (it may have expired)")
        return path


def create_app(restorer: Restorer, workdir: Path, max_upload_mb: float = 20.0) -> FastAPI:
    """The web app over one shared Restorer; upscalers are loaded once, at their first use."""
    limit = int(max_upload_mb * 2**20)
    space = Workspace(Path(workdir))
    scales = upscale_scales()
    config = {"stages": list(STAGES), "upscale": scales, "max_upload_mb": max_upload_mb}
    run_lock = threading.Lock()
    upscalers: dict[int, Any] = {}
    server_calibration = restorer.color_calibration  # `serve --color-calibration`

    def upscaled(image: np.ndarray, scale: int) -> np.ndarray:
        if scale not in upscalers:
            upscalers[scale] = Upscaler(scale)
        return upscalers[scale](image)

    app = FastAPI(title="restoria", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def no_sniff(request: Request, call_next: Callable) -> Any:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"
        return response

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, exc: TooLarge) -> JSONResponse:
        return too_large_response(limit)

    @app.exception_handler(HTTPException)
    async def as_json(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page_html().replace("__CONFIG__", json.dumps(config))

    @app.get("/api/info")
    def info() -> dict:
        return config

    @app.post("/api/upload")
    async def upload(request: Request, name: str = "upload") -> dict:
        """Stream the raw body into the private folder, then check that it decodes as an image."""
        shown = Path(name).name[:200] or "upload"
        key, folder = space.new()
        path = folder / UPLOAD
        try:
            with open(path, "wb") as fh:
                async for chunk in request.stream():
                    fh.write(chunk)
            rgb = await run_in_threadpool(read_image, path, "RGB")
        except InputError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise HTTPException(400, f"{shown}: {exc.reason.replace(str(path), shown)}") from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return {"id": key, "width": int(rgb.shape[1]), "height": int(rgb.shape[0])}

    @app.post("/api/restore")
    def restore(req: RestoreRequest) -> dict:
        """Restore an uploaded photo; writes before/mask/enhanced/inpainted/colorized/restored PNGs."""
        bad = sorted(set(req.stages) - set(STAGES) | ({"upscale"} & set(req.stages) if not scales else set()))
        if bad:
            raise HTTPException(400, f"unknown stage(s): {', '.join(bad)}")
        scale = req.scale or (scales[0] if scales else None)
        if "upscale" in req.stages and scale not in scales:
            raise HTTPException(400, f"upscale x{scale} is not offered (offered: {', '.join(f'x{s}' for s in scales)})")
        try:
            rgb = read_image(space.get(req.photo, UPLOAD), "RGB")
        except InputError as exc:
            raise HTTPException(400, f"photo: {exc.reason}") from None
        try:
            mask = load_mask(space.get(req.mask, UPLOAD), rgb.shape[:2]) if req.mask else None
        except InputError as exc:
            raise HTTPException(400, f"mask: {exc.reason}") from None
        if mask is not None and not mask.any():
            mask = None  # an empty painting means "find the damage for me"
        with run_lock:  # one shared Restorer: requests take turns, each with its own colour settings
            restorer.color_strength = req.color_strength
            restorer.use_color_calibration(server_calibration if req.color_calibration is None else req.color_calibration)
            out = restorer(rgb, mask, req.color, tuple(s for s in STAGES if s in req.stages))
            final = upscaled(out.restored, scale) if "upscale" in req.stages else out.restored
        key, folder = space.new()
        for name, img in zip(OUTPUTS, (rgb, out.mask, out.enhanced, out.inpainted, out.colorized, final)):
            write_png(folder / f"{name}.png", np.ascontiguousarray(img))
        h, w = final.shape[:2]
        return {
            "id": key,
            "width": w,
            "height": h,
            "notes": out.notes,
            "files": {name: f"/api/files/{key}/{name}.png" for name in OUTPUTS},
        }

    @app.get("/api/files/{key}/{name}.png")
    def files(key: str, name: str, download: bool = False) -> FileResponse:
        if name not in OUTPUTS:
            raise HTTPException(404, "no such file")
        path = space.get(key, name)
        filename = f"restored-{key[:8]}.png" if name == "restored" else f"{name}-{key[:8]}.png"
        return FileResponse(path, media_type="image/png", filename=filename if download else None,
                            content_disposition_type="attachment" if download else "inline")

    return LimitBody(app, limit)  # type: ignore[return-value]


def serve(
    restorer_factory: Callable[[], Restorer], host: str = "127.0.0.1", port: int = 7860, max_upload_mb: float = 20.0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the page until interrupted; the private folder is deleted on exit."""
    import uvicorn

    if threading.current_thread() is threading.main_thread():
        # uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again; exiting
        # through SystemExit (not the default kill) lets the `finally` below delete the private folder
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _exit_cleanly)
    workdir = Path(tempfile.mkdtemp(prefix="restoria-serve-"))  # mkdtemp: mode 0700, owner only
    try:
        restorer = restorer_factory()  # loaded once, before the first visitor
        app = create_app(restorer, workdir, max_upload_mb)
        if on_ready:
            on_ready(f"http://{host}:{port}/  (uploads and results in {workdir}, deleted on exit)")
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def page_html() -> str:
    """The page's HTML, shipped as package data (serve/page.html): one self-contained file."""
    return (resources.files("restoria.serve") / "page.html").read_text()
