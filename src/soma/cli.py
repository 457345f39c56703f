"""The ``soma`` command: ``soma demo``, ``soma explain ...``, ``soma bench``, ``soma playground``.

``soma demo`` is the five-minute tour: it trains the best model soma has for
a data set that ships with the install (a small CNN on the 8×8 digits by
default), shows the progress bar, prints the test accuracy and writes the
model (safetensors), its learning curves and confusion matrix (PNG) to a
folder.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main"]

DATA_CHOICES = ("digits", "iris", "mnist-sample")


def _recipe(name):
    """(data split, model, optimizer factory, default epochs, batch size) for a demo data set."""
    from soma import datasets, nn, optim
    from soma.models import DigitsCNN, LeNet5

    if name == "digits":  # 1,437 training images of 8x8: a small CNN reaches ~99%
        split = datasets.digits(images=True)
        model = DigitsCNN()
        return split, model, optim.Adam(model.parameters(), lr=3e-3), 15, 64
    if name == "iris":
        split = datasets.iris(standardize=True)
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
        return split, model, optim.Adam(model.parameters(), lr=0.01), 60, 16
    split = datasets.mnist_sample(images=True)  # 4,000 training digits of 28x28: LeNet-5
    model = LeNet5()
    return split, model, optim.Adam(model.parameters(), lr=2e-3), 5, 64


def demo(args):
    import soma

    soma.manual_seed(args.seed)
    try:
        split, model, optimizer, epochs, batch_size = _recipe(args.data)
    except ImportError as error:
        print(f"soma demo: {error}", file=sys.stderr)
        return 1
    epochs = args.epochs if args.epochs is not None else epochs
    history, scores = _train_and_test(args.data, split, model, optimizer, epochs, batch_size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = [out / "model.safetensors"]
    soma.save(model.state_dict(), saved[0])
    try:
        saved += _plots(out, split, history, scores)
    except ImportError as error:
        print(f"(no plots: {error})")
    print("saved:")
    for path in saved:
        print(f"  {path}")
    print(
        f"reload the model with {type(model).__name__}()"
        f".load_state_dict(soma.load({str(saved[0])!r}))"
    )
    return 0


def _train_and_test(data, split, model, optimizer, epochs, batch_size):
    """Fit with a progress bar, print the time and the test accuracy; returns the history and the test scores."""
    from soma import nn
    from soma.train import Trainer, accuracy, summary

    (X_train, y_train), (X_test, y_test) = split
    print(
        f"soma demo: {data}, {len(X_train)} training and {len(X_test)} test samples, "
        f"{type(model).__name__}, {epochs} epochs"
    )
    summary(model, X_train.shape[1:])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=[accuracy], verbose=1)
    start = time.perf_counter()
    # Validation comes from the training data (its last 10%); the test set is only used once, below.
    history = trainer.fit(X_train, y_train, epochs=epochs, batch_size=batch_size, validation_split=0.1)
    seconds = time.perf_counter() - start
    scores = trainer.predict(X_test).numpy()
    print(f"trained in {seconds:.1f} s")
    print(f"test accuracy: {accuracy(y_test, scores):.4f}")
    return history, scores


def _plots(out, split, history, scores):
    """The learning curves, the confusion matrix and (for images) 32 test predictions as PNGs; their paths."""
    from soma.train import confusion_matrix, plots

    (_, _), (X_test, y_test) = split
    saved = [Path(plots.plot_history(history, out / "history.png"))]
    matrix = confusion_matrix(y_test, scores, num_classes=len(split.classes))
    saved.append(Path(plots.plot_confusion_matrix(matrix, out / "confusion_matrix.png", class_names=split.classes)))
    if X_test.ndim == 4:
        names = [
            f"{split.classes[p]}" + ("" if p == t else f" (true {split.classes[t]})")
            for p, t in zip(scores[:32].argmax(1), y_test[:32], strict=True)
        ]
        saved.append(Path(plots.plot_images(X_test[:32], out / "predictions.png", labels=names, ncols=8,
                                            title="predicted class")))
    return saved


def explain(argv):
    try:
        from soma.explain.cli import main as explain_main
    except ImportError as error:
        print(f"soma explain is not available in this installation ({error})", file=sys.stderr)
        return 1
    return int(explain_main(argv) or 0)


def bench(argv):
    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks" / "__main__.py").exists():
        print(
            "soma bench: the benchmarks live in soma's source repository (benchmarks/), not in "
            "the installed package; clone the repository and run `make bench` there.",
            file=sys.stderr,
        )
        return 1
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.run([sys.executable, "-m", "benchmarks", *argv], cwd=root, env=env).returncode


def run(argv):
    """``soma run -n N script.py args...``: the script on N MPI ranks (see soma.distributed.launch)."""
    parser = argparse.ArgumentParser(
        prog="soma run",
        description="Run a Python script on N processes over MPI (mpiexec -n N python script.py args...); "
        "in the script, soma.distributed.init_process_group('mpi') joins them.",
    )
    parser.add_argument("-n", "--np", dest="n", type=int, required=True, help="number of processes (ranks)")
    parser.add_argument("script", help="the Python script every rank runs")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("-n must be at least 1")
    from soma.distributed.launch import run as launch

    try:
        return launch(args.n, [args.script, *args.args])
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1


def _parser():
    import soma

    parser = argparse.ArgumentParser(
        prog="soma",
        description="soma: deep learning from first principles on NumPy, with PyTorch's names.",
    )
    parser.add_argument("--version", action="version", version=f"soma {soma.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command")
    demo_parser = commands.add_parser(
        "demo", help="train a model on bundled data, print its test accuracy, save it and its plots"
    )
    demo_parser.add_argument(
        "--data",
        choices=DATA_CHOICES,
        default="digits",
        help="data set shipped with the install (default: digits)",
    )
    demo_parser.add_argument(
        "--epochs", type=int, default=None, help="epochs to train (default: per data set)"
    )
    demo_parser.add_argument(
        "--out", default="soma-demo", help="folder for the model and plots (default: soma-demo)"
    )
    demo_parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    commands.add_parser(
        "explain",
        add_help=False,
        help="step-by-step forward/backward derivations (soma explain --help)",
    )
    commands.add_parser(
        "bench", add_help=False, help="time soma against PyTorch (from a source checkout)"
    )
    commands.add_parser("run", add_help=False, help="run a script on N processes over MPI (soma run -n N script.py)")
    playground_parser = commands.add_parser(
        "playground", help="an interactive neural network in the browser (needs soma[playground])"
    )
    playground_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    playground_parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    playground_parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return parser


def main(argv=None):
    """Entry point of the ``soma`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "explain":
        return explain(argv[1:])
    if argv and argv[0] == "bench":
        return bench(argv[1:])
    if argv and argv[0] == "run":
        return run(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.epochs is not None and args.epochs < 1:
            parser.error("--epochs must be at least 1")
        return demo(args)
    if args.command == "playground":
        from soma.playground import main as playground

        return playground(args.host, args.port, not args.no_browser)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
