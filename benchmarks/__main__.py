"""Run every benchmark family side by side with PyTorch and print soma/PyTorch ratios."""

import argparse
import importlib

from benchmarks.harness import markdown, report, set_threads

# Each family module exposes ``workloads()`` returning a list of harness.Workload.
FAMILIES = ["benchmarks.ops", "benchmarks.mlp", "benchmarks.cnn", "benchmarks.rnn", "benchmarks.gpt"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default="", help="run workloads whose name contains this text")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--block", type=float, default=1.0, help="seconds per timed block")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--markdown", metavar="FILE", help="also write the README's speed table to FILE")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    workloads = []
    for family in FAMILIES:
        try:
            module = importlib.import_module(family)
        except ModuleNotFoundError as error:
            if error.name == family:
                continue
            raise
        workloads += [w for w in module.workloads() if args.only in w.name]
    print(f"{args.threads} threads, {args.rounds} interleaved rounds of {args.block:.1f} s")
    results = report(workloads, args.rounds, args.block)
    if args.markdown:
        with open(args.markdown, "w") as file:
            markdown(workloads, results, out=lambda line: print(line, file=file))


if __name__ == "__main__":
    main()
