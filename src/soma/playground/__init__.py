"""``soma playground``: TensorFlow Playground's neural network in the browser, trained by soma,
where every number of a neuron can be opened.

``soma playground [--host 127.0.0.1] [--port 8000] [--no-browser]`` serves the page
(:mod:`soma.playground.server`); each page drives a :class:`~soma.playground.session.Session`
over a WebSocket. Clicking a neuron shows its net input, activation, δ, chain-rule factors
and weight updates from ``soma.explain.step`` (:mod:`soma.playground.arithmetic`); notes mode
steps through the notes' worked networks; the network exports as a soma script or a
safetensors file (:mod:`soma.playground.export`).

The server needs the ``playground`` extra: ``pip install soma[playground]``.
"""

__all__ = ["main"]


def main(host="127.0.0.1", port=8000, open_browser=True):
    """Serve the playground until Ctrl-C; returns the exit code (1 without the extra)."""
    try:
        from soma.playground.server import serve
    except ImportError as error:
        import sys

        print(
            f"soma playground needs the 'playground' extra ({error}); install it with `pip install soma[playground]`",
            file=sys.stderr,
        )
        return 1
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"soma playground: serving on {host}: anyone who can reach it can use this machine's CPU")
    return serve(host, port, open_browser)
