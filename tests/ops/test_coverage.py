"""tools/coverage.py: docs/coverage.md's generated tables are current, and the counts mean what they say."""

import importlib.util
from pathlib import Path

import torch

import soma

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("soma_coverage_tool", ROOT / "tools" / "coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


coverage = _tool()
ROWS = coverage.report()


def test_docs_coverage_md_is_current():
    section = coverage.generated_section((ROOT / "docs" / "coverage.md").read_text())
    assert section is not None, "docs/coverage.md lost its coverage:begin/end markers"
    assert section == coverage.markdown(ROWS), "docs/coverage.md is stale: run `python tools/coverage.py --write`"


def test_counted_names_exist_in_both_libraries():
    surfaces = coverage.torch_surfaces()
    by_name = {row[0]: row for row in ROWS}
    for surface, (target, names) in surfaces.items():
        _, total, covered, missing = by_name[surface]
        assert total == len(names) == len(covered) + sum(len(v) for v in missing.values())
        torch_object = {"torch": torch, "torch.Tensor": torch.Tensor, "torch.linalg": torch.linalg,
                        "torch.special": torch.special, "torch.nn.functional": torch.nn.functional,
                        "torch.nn (modules)": torch.nn}[surface]
        assert all(hasattr(torch_object, n) for n in names)
        assert all(hasattr(target, n) for n in covered)
        assert not any(target is not None and hasattr(target, n) for v in missing.values() for n in v)
    assert "scatter_reduce" in by_name["torch"][2] and "einsum" in by_name["torch"][2]
    assert "svd" in by_name["torch.linalg"][2] and "index_add_" in by_name["torch.Tensor"][2]


def test_families_classify_by_name():
    assert coverage.family_of("view_as_complex") == "complex numbers"
    assert coverage.family_of("sparse_coo_tensor") == "sparse tensors"
    assert coverage.family_of("quantize_per_tensor") == "quantization"
    assert coverage.family_of("quantile") == coverage.NOT_YET
    assert coverage.family_of("stft") == "fft and signal windows"
    assert coverage.family_of("cudnn_convolution") == "backend kernels and internals"
    assert coverage.family_of("LazyLinear") == "lazy modules"
    assert coverage.family_of("lgamma") == coverage.NOT_YET


def test_text_report_and_soma_never_imports_torch_for_it():
    text = coverage.text(ROWS)
    assert text.splitlines()[0].split()[:3] == ["surface", "torch", "soma"]
    assert "torch" not in soma.__dict__
