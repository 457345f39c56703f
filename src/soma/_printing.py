"""How a tensor prints: ``soma.set_printoptions``, as ``torch.set_printoptions``, and the repr body that honours it.

The options (PyTorch's names and profiles):

- ``precision``: digits after the decimal point of floating values (default 4);
- ``threshold``: a tensor with more elements than this prints summarized, ``...`` in the middle (1000);
- ``edgeitems``: how many items a summarized dim shows at each end (3);
- ``linewidth``: characters per line before the body wraps (80);
- ``profile``: ``"default"``, ``"short"`` (precision 2, edgeitems 2) or ``"full"`` (never summarize);
  it sets the four above, and any of them given in the same call wins over it;
- ``sci_mode``: ``True`` always scientific notation, ``False`` never, ``None`` (default) soma decides.

The digits come from NumPy's ``array2string`` (soma's dtype is NumPy's), so a number's text can differ from
PyTorch's in its last place of padding; the options mean what PyTorch's mean.
"""

import sys

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "array_body"]

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": float("inf"), "edgeitems": 3, "linewidth": 80},
}
_OPTIONS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Set how tensors print (see the module docstring); the options stay until changed again."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        _OPTIONS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            _OPTIONS[name] = value
    _OPTIONS["sci_mode"] = sci_mode  # as PyTorch: every call sets it, None meaning "decide"


def get_printoptions():
    """The current print options, a dict (``torch._tensor_str.get_printoptions``)."""
    return dict(_OPTIONS)


def array_body(array, prefix="tensor("):
    """The text of ``array``'s values inside a tensor's repr, with the current print options."""
    options = _OPTIONS
    threshold = options["threshold"]
    formatter = None
    if array.dtype.kind == "f" and options["sci_mode"] is not None:  # PyTorch's forced forms, padded alike
        spec = f".{int(options['precision'])}{'e' if options['sci_mode'] else 'f'}"
        finite = array[np.isfinite(array)]
        width = max(len(format(v, spec)) for v in (finite.min(), finite.max())) if finite.size else 0
        formatter = {"float_kind": lambda v: format(v, spec).rjust(width)}
    body = np.array2string(
        array, separator=", ", prefix=prefix, precision=int(options["precision"]),
        threshold=sys.maxsize if threshold == float("inf") else int(threshold),
        edgeitems=int(options["edgeitems"]), max_line_width=int(options["linewidth"]), formatter=formatter,
    )
    return body.replace(", ...,", ",  ...,")  # PyTorch's summary mark within a row: "2,  ..., 1997"
