"""The names PyTorch also has at its top level: ``torch.conv2d``, ``torch.layer_norm``, ``torch.exp_`` ...

Two kinds:

- the nn kernels. Where ``torch.<name>`` takes the arguments of ``torch.nn.functional.<name>`` in the same
  order, soma's top-level name IS soma.nn.functional's function. Where PyTorch's top-level form is the raw
  ATen op with its own order (``torch.batch_norm(input, weight, bias, running_mean, running_var, training,
  momentum, eps, cudnn_enabled)``, ``torch.embedding(weight, indices, ...)``, ``torch.dropout(input, p,
  train)``, an int ``reduction`` as 0 none / 1 mean / 2 sum), a thin adapter below reorders and calls it.
  A name soma.nn.functional lacks is left out here too.
- the top-level forms of methods: ``torch.conj(t)`` is ``t.conj()`` (:data:`_METHOD_FORMS`); and the in-place
  top-level forms: ``torch.exp_(x)`` is ``x.exp_()``; one table, :data:`INPLACE`, made
  from the Tensor's in-place methods, and ``celu_``/``selu_``/``threshold_``/``dropout_`` from the
  kernels' ``inplace=True``.
"""

from soma.nn import functional as F
from soma.tensor import Tensor

_SAME_AS_FUNCTIONAL = (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
    "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "bilinear", "prelu", "selu", "celu",
    "threshold", "pixel_shuffle", "pixel_unshuffle", "rms_norm", "hardshrink", "rrelu", "pdist",
    "cosine_similarity", "pairwise_distance", "channel_shuffle", "native_channel_shuffle", "rrelu_",
)
# torch.<name>(t, *args) is t.<name>(*args) (t.real and t.imag are properties)
_METHOD_FORMS = ("conj", "resolve_conj", "resolve_neg", "is_conj", "adjoint", "get_device", "split_with_sizes",
                 "unsafe_chunk", "unsafe_split", "slice_scatter", "addbmm", "is_inference")
_ADAPTED = ["layer_norm", "group_norm", "batch_norm", "instance_norm", "embedding", "kl_div",
            "binary_cross_entropy_with_logits", "celu_", "selu_", "threshold_"]
# the top-level x_(input, *args) forms of Tensor.x_ (torch's whole list less resize/strided/sparse/conj ones)
INPLACE = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
    "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
    "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_",
    "i0_", "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
    "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_",
    "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_",
)


def _inplace_function(name):
    def function(input, *args, **kwargs):  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(input, *args)`` is ``input.{name}(*args)``: in place, returns ``input``."
    return function


_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(value, name):
    """ATen's int reduction (0 none, 1 mean, 2 sum) as the functional form's string."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}(): argument 'reduction' must be int, not {type(value).__name__}")
    if value not in _REDUCTIONS:
        raise ValueError(f"{name}(): reduction must be 0 (none), 1 (mean) or 2 (sum), got {value}")
    return _REDUCTIONS[value]


def _dropout(kind, inplace):
    """``torch.<kind>(input, p, train)``: ``soma.nn.functional.<kind>`` with ``training=train``."""
    def function(input, p, train):  # noqa: A002
        return getattr(F, kind)(input, p, train, inplace=inplace)

    function.__name__ = function.__qualname__ = kind + "_" * inplace
    function.__doc__ = f"``torch.{function.__name__}(input, p, train)``: ``soma.nn.functional.{kind}``" + (
        " in place." if inplace else ".")
    return function


_DROPOUTS = {kind + "_" * inplace: _dropout(kind, inplace) for kind in ("dropout", "alpha_dropout",
             "feature_alpha_dropout") for inplace in (False, True) if hasattr(F, kind)}


def celu_(input, alpha=1.0):  # noqa: A002
    return F.celu(input, alpha, inplace=True)


def selu_(input):  # noqa: A002
    return F.selu(input, inplace=True)


def threshold_(input, threshold, value):  # noqa: A002
    return F.threshold(input, threshold, value, inplace=True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):  # noqa: A002
    """``torch.layer_norm``: :func:`soma.nn.functional.layer_norm`; ``cudnn_enable`` is accepted and ignored."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):  # noqa: A002
    """``torch.group_norm``: :func:`soma.nn.functional.group_norm`; ``cudnn_enabled`` is ignored."""
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):  # noqa: A002
    """``torch.batch_norm`` (ATen's order: the affine parameters first, every argument required)."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,  # noqa: A002
                  cudnn_enabled):
    """``torch.instance_norm`` (ATen's order, as :func:`batch_norm`)."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding(weight, indices)``: the table first; ``padding_idx=-1`` means none."""
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def kl_div(input, target, reduction=1, *, log_target=False):  # noqa: A002
    """``torch.kl_div``: ``reduction`` is ATen's int (1: the mean over every element, not per batch)."""
    return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"), log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):  # noqa: A002
    """``torch.binary_cross_entropy_with_logits``: ``pos_weight`` before an int ``reduction``."""
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(
        reduction, "binary_cross_entropy_with_logits"), pos_weight=pos_weight)


def _names():
    """{name: callable} of every alias soma can give now (a functional name F lacks is left out)."""
    table = {name: getattr(F, name) for name in _SAME_AS_FUNCTIONAL if hasattr(F, name)}
    table.update({name: globals()[name] for name in _ADAPTED}, **_DROPOUTS)
    table.update({name: _inplace_function(name) for name in INPLACE if hasattr(Tensor, name)})
    table.update({name: _method_form(name) for name in _METHOD_FORMS if hasattr(Tensor, name)})
    table.update(real=lambda input: input.real, imag=lambda input: input.imag)
    return table


def _method_form(name):
    def function(input, *args, **kwargs):  # noqa: A002
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``torch.{name}(t, ...)``: :meth:`Tensor.{name}`."
    return function


ALIASES = _names()
__all__ = sorted(ALIASES)
globals().update(ALIASES)
