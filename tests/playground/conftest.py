"""A live playground server (uvicorn in a thread, on a free port of 127.0.0.1) and a browser page.

Browser tests drive the system's Chromium through Playwright (``executable_path`` is
``shutil.which("chromium")``; Playwright never downloads a browser here). Without
Chromium, or without the ``playground`` extra, those tests skip and say why; CI installs
both (``.ci/run`` and the ``dev`` extra).
"""

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

try:
    import uvicorn

    from soma.playground.server import MAX_FRAME_BYTES, create_app
except ImportError as error:  # the tests that need the server skip and say why
    MISSING = f"the playground needs the 'playground' extra (pip install soma[playground]): {error}"
else:
    MISSING = None

ARTIFACTS = Path(os.environ.get("SOMA_PLAYGROUND_ARTIFACTS", "/tmp/soma-playground-artifacts"))


class LiveServer:
    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = create_app()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, ws_max_size=MAX_FRAME_BYTES, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.02)
        self.url = f"http://localhost:{self.port}/"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"

    @property
    def session(self):
        """The session of the newest connection (the one the running test opened)."""
        deadline = time.monotonic() + 10
        while not self.app.state.connections:
            if time.monotonic() > deadline:
                raise RuntimeError("no session is open")
            time.sleep(0.02)
        return list(self.app.state.connections.values())[-1].session

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server():
    if MISSING:
        pytest.skip(MISSING)
    server = LiveServer()
    yield server
    server.stop()


def receive(ws, kind, timeout=30):
    """The next message of type ``kind`` (others, e.g. training frames, are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == kind:
            return message


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no chromium on PATH (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright comes with the 'dev' extra")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh page on the playground; fails the test if the page logs any console error."""
    # bypass_csp: Playwright evaluates its wait_for_function predicates as strings (the CSP test runs without it)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(live_server.url)
    page.wait_for_selector(".neuron.output canvas")
    page.problems = problems
    yield page
    context.close()
    assert not problems, problems


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
