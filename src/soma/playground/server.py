"""The playground's web server: the page, and one WebSocket per page that drives a session.

Starlette serves the static page (``static/``, no CDN) and ``/ws``; uvicorn runs it on
127.0.0.1 unless told otherwise. Each WebSocket gets its own :class:`Session`. Every
message is validated (:mod:`soma.playground.protocol`); a bad one, or a message whose
handling fails, is answered with ``{"type": "error", "message": ...}`` and the
connection keeps going. All soma work runs on one worker thread, so the event loop
keeps serving every page while a network trains, and soma's process-wide grad mode
and random generator are never used by two sessions at once.
"""

import asyncio
import base64
import contextlib
import json
import math
import time
import webbrowser
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from soma.playground import arithmetic, export, protocol
from soma.playground.data import FEATURES
from soma.playground.session import Session

__all__ = ["create_app", "serve", "MAX_SESSIONS"]

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 16
FRAME_SECONDS = 0.05  # while playing, train about this long between two pictures
MAX_FRAME_BYTES = 64 * 1024  # uvicorn drops a connection that sends a bigger frame
CSP = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'"


class Connection:
    """One page: its session, its notes bench and its training task."""

    def __init__(self, websocket, executor):
        self.websocket = websocket
        self.executor = executor
        self.session = Session()
        self.notes = arithmetic.NotesBench()
        self.trainer = None

    async def work(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def send(self, message):
        await self.websocket.send_text(json.dumps(_finite(message), allow_nan=False))

    async def error(self, text):
        await self.send({"type": "error", "message": str(text)})

    async def receive_forever(self):
        await self.send(await self.work(self.session.snapshot))
        while True:
            frame = await self.websocket.receive()
            if frame["type"] == "websocket.disconnect":
                return
            try:
                message = protocol.parse(
                    frame.get("text") if frame.get("text") is not None else frame.get("bytes", b"")
                )
            except protocol.ProtocolError as error:
                await self.error(error)
                continue
            try:
                await self.handle(message)
            except (WebSocketDisconnect, OSError):
                raise
            except Exception as error:  # noqa: BLE001 (a failing request is answered; the session goes on)
                await self.error(f"{message.type}: {error}")

    async def handle(self, message):
        session, kind = self.session, message.type
        if kind == "config":
            await self.work(session.configure, message.model_dump())
        elif kind == "play":
            session.playing = True
            if self.trainer is None or self.trainer.done():
                self.trainer = asyncio.create_task(self.train())
            return
        elif kind == "pause":
            session.playing = False
        elif kind == "step":
            session.playing = False
            await self.work(lambda: [session.train_epoch() for _ in range(message.epochs)])
        elif kind == "reset":
            session.playing = False
            await self.work(session.reset)
        elif kind == "set_weight":
            await self.work(session.set_weight, message.layer, message.neuron, message.input, message.value)
        elif kind == "explain":
            await self.send(await self.work(self.explain, message))
            return
        elif kind == "notes":
            bench = self.notes
            await self.send(await self.work(bench.step, message.network, message.sample, message.apply, message.reset))
            return
        elif kind == "export":
            await self.send(await self.work(self.export, message.format))
            return
        await self.send(await self.work(session.snapshot))

    def explain(self, message):
        session = self.session
        if message.sample >= len(session.train_x):
            raise ValueError(f"sample {message.sample}: there are {len(session.train_x)} training points")
        session._linear(message.layer, message.neuron)  # range check with a clear message
        labels = [FEATURES[name][0] for name in session.settings.features]
        x, t = session.train_x[message.sample], session.train_t[message.sample]
        found = arithmetic.neuron(
            session.explain_model(), x, t, session.settings.learning_rate, message.layer, message.neuron, labels
        )
        point = session.train_points[message.sample].tolist()
        return {
            "type": "explain",
            "layer": message.layer,
            "neuron": message.neuron,
            "sample": message.sample,
            "point": point,
            "target": float(t),
            "epoch": session.epoch,
            **found,
        }

    def export(self, kind):
        if kind == "script":
            return {
                "type": "export",
                "format": "script",
                "filename": "playground_model.py",
                "text": export.script(self.session),
            }
        data = export.safetensors(self.session)
        return {
            "type": "export",
            "format": "safetensors",
            "filename": "playground_model.safetensors",
            "base64": base64.b64encode(data).decode("ascii"),
        }

    async def train(self):
        """While playing: train about FRAME_SECONDS of epochs, send the picture, repeat."""
        session = self.session

        def frame():
            start = time.perf_counter()
            while session.playing:
                session.train_epoch()
                if time.perf_counter() - start > FRAME_SECONDS:
                    break
            return session.snapshot()

        while session.playing:
            try:
                message = await self.work(frame)
            except Exception as error:  # noqa: BLE001 (whatever this network did, only its session stops)
                session.playing = False
                message = {"type": "error", "message": f"training stopped: {type(error).__name__}: {error}"}
            try:
                await self.send(message)
            except (WebSocketDisconnect, RuntimeError, OSError):  # the page went away
                session.playing = False
                return
            await asyncio.sleep(0)


def _finite(value):
    """``value`` with NaN and ±Inf (a diverging network) as null, which JSON can carry."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _same_origin(websocket):
    """A browser sends Origin; only the page this server served may drive a session."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser (a test client, a script): nothing cross-site to fear
    return urlsplit(origin).netloc == websocket.headers.get("host")


def create_app():
    """The Starlette app: ``/`` (the page), ``/static/...`` and the ``/ws`` WebSocket."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soma-playground")
    connections = {}  # id → Connection, oldest first

    async def page(request):
        return FileResponse(
            STATIC / "index.html", headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"}
        )

    async def socket(websocket: WebSocket):
        if not _same_origin(websocket):
            await websocket.close(code=1008)
            return
        if len(connections) >= MAX_SESSIONS:
            await websocket.close(code=1013)
            return
        await websocket.accept()
        connection = Connection(websocket, executor)
        connections[id(connection)] = connection
        try:
            await connection.receive_forever()
        except (WebSocketDisconnect, OSError):
            pass  # the page went away
        finally:
            connection.session.playing = False
            connections.pop(id(connection), None)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    app = Starlette(
        routes=[
            Route("/", page),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            WebSocketRoute("/ws", socket),
        ],
        lifespan=lifespan,
    )
    app.state.connections = connections
    return app


def serve(host="127.0.0.1", port=8000, open_browser=True):
    """Run the playground at http://host:port until interrupted (Ctrl-C)."""
    import uvicorn

    url = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}/"
    config = uvicorn.Config(create_app(), host=host, port=port, ws_max_size=MAX_FRAME_BYTES, log_level="warning")
    server = uvicorn.Server(config)

    async def main():
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            print(f"soma playground: {url}  (Ctrl-C stops it)", flush=True)
            if open_browser:
                webbrowser.open(url)
        await task

    asyncio.run(main())
    return 0
