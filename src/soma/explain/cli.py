"""``soma explain``: print the worked examples of the lecture notes as step-by-step reports.

    soma explain --list
    soma explain backprop-222 --digits 4 --format markdown
    soma explain conv-vertical-edge --cell 2,1

The ``soma`` command dispatches ``soma explain ...`` here (``main(argv)``); without
it, ``python -m soma.explain.cli ...`` does the same.
"""

import argparse
import sys

__all__ = ["main"]

FORMATS = {"text": "to_text", "markdown": "to_markdown", "latex": "to_latex", "html": "to_html"}


def _cell(text):
    try:
        i, j = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--cell takes two integers I,J (a row and a column), got {text!r}") from None
    return i, j


def _parser():
    parser = argparse.ArgumentParser(
        prog="soma explain",
        description="Every worked example of the lecture notes, computed by soma and written out step by step.",
    )
    parser.add_argument("name", nargs="?", help="the example to explain (see --list)")
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.add_argument("--digits", type=int, default=6, help="significant digits (default 6)")
    parser.add_argument(
        "--format", choices=sorted(FORMATS), default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--cell", type=_cell, default=None, metavar="I,J",
        help="also write this output cell of a convolution or pooling example, e.g. --cell 1,2",
    )
    return parser


def main(argv=None):
    """Run ``soma explain`` with the arguments ``argv`` (without the program name); returns the exit code."""
    from soma.explain.examples import EXAMPLES, explain_example

    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        width = max(len(name) for name in EXAMPLES)
        for name, example in EXAMPLES.items():
            print(f"{name:<{width}}  {example.description}  [{example.source}]")
        return 0
    if args.name is None:
        parser.print_usage(sys.stderr)
        print("soma explain: give an example name, or --list to see them", file=sys.stderr)
        return 2
    if args.name not in EXAMPLES:
        print(
            f"soma explain: no example named {args.name!r}; run 'soma explain --list'",
            file=sys.stderr,
        )
        return 2
    if not 1 <= args.digits <= 17:
        print("soma explain: --digits must be between 1 and 17", file=sys.stderr)
        return 2
    try:
        report = explain_example(args.name, digits=args.digits, cell=args.cell)
    except (ValueError, IndexError) as error:
        print(f"soma explain: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(getattr(report, FORMATS[args.format])())
    return 0


if __name__ == "__main__":
    sys.exit(main())
