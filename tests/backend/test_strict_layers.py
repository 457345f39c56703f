"""The nn tier on the strict backend: losses, normalization, embedding, dropout, attention, the Transformer
encoder layer, packed sequences, resampling, fold/unfold, init and state_dict, with the CPU's exact numbers.

Each case runs on the CPU and on the strict device (arrays that refuse any implicit conversion to NumPy,
as CuPy's do) and must give identical values, dtypes and input gradients (:mod:`same_numbers`); a layer's
case also compares its parameters' gradients and its buffers (BatchNorm's running statistics). A layer is
built on the host in float64 from one seed, its constant-initialized weights and buffers randomized, then moved, so
both runs hold the same numbers. Nothing here sets the default device for a layer's run: whatever a layer
makes for itself (masks, indices, padding) must land beside its input.
"""

import numpy as np
import pytest
from same_numbers import run

import soma
import soma.nn.functional as F
from soma import nn
from soma.nn.functional.recurrent import reference
from soma.nn.utils import rnn as rnn_utils

_RNG = np.random.default_rng(0)


def _normal(*shape):
    return _RNG.standard_normal(shape)


def _probabilities(*shape):
    return 1 / (1 + np.exp(-_normal(*shape)))


def _classes(high, *shape):
    return _RNG.integers(0, high, shape)


def _same(cpu, dev, device):
    """The tensors ``dev`` (on ``device``) hold ``cpu``'s values and dtypes."""
    assert len(cpu) == len(dev)
    for c, d in zip(cpu, dev):
        assert (c is None) == (d is None)
        if c is not None:
            assert d.device == soma.device(device, 0) and d.dtype == c.dtype and d.shape == c.shape
            np.testing.assert_array_equal(d.detach().cpu().numpy(), c.detach().numpy())


def _randomized(layer):
    """``layer`` with every float parameter and buffer drawn anew (running variances positive), so a constant
    initialization (BatchNorm's γ = 1, β = 0) cannot hide a wrong gradient or statistic."""
    rng = np.random.default_rng(1)
    with soma.no_grad():
        for name, tensor in [*layer.named_parameters(), *layer.named_buffers()]:
            if tensor.dtype.kind == "f":
                values = rng.standard_normal(tuple(tensor.shape))
                tensor.copy_(soma.tensor(np.abs(values) + 0.5 if "var" in name else values, dtype=tensor.dtype))
    return layer


def _layer_run(build, arrays, device, train, call):
    soma.manual_seed(0)
    layer = _randomized(build().double()).to(device).train(train)
    soma.manual_seed(1)  # the same dropout masks in both runs
    outs, leaves = run(lambda *xs: call(layer, *xs), arrays, device)
    tensors = [t for _, t in layer.named_parameters()]
    return outs, [x.grad for x in leaves], tensors, [t.grad for t in tensors], [b for _, b in layer.named_buffers()]


def assert_layer_same_on_device(build, arrays, device, train=True, call=lambda layer, *xs: layer(*xs)):
    """``call(build(), *leaves)`` on ``device``: the CPU's outputs, input and parameter gradients, buffers."""
    for cpu, dev in zip(_layer_run(build, arrays, "cpu", train, call), _layer_run(build, arrays, device, train, call)):
        _same(cpu, dev, device)


def assert_function_same_on_device(fn, arrays, device):
    """``fn(*leaves)`` on ``device``: the CPU's outputs and input gradients (no default device set)."""
    for cpu, dev in zip(_layer_run(nn.Identity, arrays, "cpu", True, lambda _, *xs: fn(*xs)),
                        _layer_run(nn.Identity, arrays, device, True, lambda _, *xs: fn(*xs))):
        _same(cpu, dev, device)


# ------------------------------------------------------------------------------------------------ losses
_WEIGHT = np.abs(_normal(5)) + 0.1
LOSSES = [
    ("cross_entropy", lambda x, t: F.cross_entropy(x, t), [_normal(6, 5), _classes(5, 6)]),
    ("cross_entropy weighted smoothed ignore", lambda x, t, w: F.cross_entropy(
        x, t, weight=w, ignore_index=2, label_smoothing=0.2), [_normal(6, 5), _classes(5, 6), _WEIGHT]),
    ("cross_entropy sum (N, C, d)", lambda x, t: F.cross_entropy(x, t, reduction="sum"),
     [_normal(2, 5, 3), _classes(5, 2, 3)]),
    ("cross_entropy none", lambda x, t: F.cross_entropy(x, t, reduction="none"), [_normal(4, 5), _classes(5, 4)]),
    ("cross_entropy all ignored", lambda x, t: F.cross_entropy(x, t * 0 - 100), [_normal(3, 5), _classes(5, 3)]),
    ("cross_entropy probabilities", lambda x, p: F.cross_entropy(x, p.softmax(1), label_smoothing=0.1),
     [_normal(4, 5), _normal(4, 5)]),
    ("nll_loss weighted", lambda x, t, w: F.nll_loss(x.log_softmax(1), t, weight=w), [_normal(6, 5), _classes(5, 6),
                                                                                        _WEIGHT]),
    ("nll_loss ignore none", lambda x, t: F.nll_loss(x, t, ignore_index=1, reduction="none"),
     [_normal(6, 5), _classes(5, 6)]),
    ("binary_cross_entropy", lambda p, y, w: F.binary_cross_entropy(p, y, weight=w),
     [_probabilities(4, 3), _probabilities(4, 3), _probabilities(4, 3)]),
    ("binary_cross_entropy_with_logits", lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, pos_weight=w),
     [_normal(4, 3), _probabilities(4, 3), _probabilities(3)]),
    ("mse_loss", lambda x, y: F.mse_loss(x, y), [_normal(4, 3), _normal(4, 3)]),
    ("l1_loss", lambda x, y: F.l1_loss(x, y, reduction="sum"), [_normal(4, 3), _normal(4, 3)]),
    ("huber_loss", lambda x, y: F.huber_loss(x, y, delta=0.5), [_normal(4, 3), _normal(4, 3)]),
    ("smooth_l1_loss", lambda x, y: F.smooth_l1_loss(x, y, beta=0.7, reduction="none"), [_normal(4, 3), _normal(4, 3)]),
    ("kl_div", lambda x, y: F.kl_div(x.log_softmax(1), y, reduction="batchmean"), [_normal(4, 3), _probabilities(4, 3)]),
    ("kl_div log_target", lambda x, y: F.kl_div(x, y, log_target=True), [_normal(4, 3), _normal(4, 3)]),
    ("soft_margin_loss", lambda x, y: F.soft_margin_loss(x, y.sign().detach()), [_normal(4, 3), _normal(4, 3)]),
    ("margin_ranking_loss", lambda a, b, y: F.margin_ranking_loss(a, b, y.sign().detach(), margin=0.3),
     [_normal(5), _normal(5), _normal(5)]),
    ("hinge_embedding_loss", lambda x, y: F.hinge_embedding_loss(x, y.sign().detach(), margin=0.7),
     [_normal(4, 3), _normal(4, 3)]),
    ("cosine_embedding_loss", lambda a, b, y: F.cosine_embedding_loss(a, b, y.sign().detach(), margin=0.1),
     [_normal(4, 3), _normal(4, 3), _normal(4)]),
    ("triplet_margin_loss", lambda a, p, n: F.triplet_margin_loss(a, p, n, swap=True),
     [_normal(4, 3), _normal(4, 3), _normal(4, 3)]),
    ("triplet_margin_with_distance_loss", lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=0.5),
     [_normal(4, 3), _normal(4, 3), _normal(4, 3)]),
    ("gaussian_nll_loss", lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=True),
     [_normal(4, 3), _normal(4, 3), _probabilities(4, 1)]),
    ("poisson_nll_loss", lambda x, y: F.poisson_nll_loss(x, y, full=True), [_normal(4, 3), _probabilities(4, 3) * 3]),
    ("multilabel_soft_margin_loss", lambda x, y: F.multilabel_soft_margin_loss(x, y), [_normal(4, 3),
                                                                                      _classes(2, 4, 3)]),
    ("multi_margin_loss", lambda x, t, w: F.multi_margin_loss(x, t, p=2, weight=w), [_normal(6, 5), _classes(5, 6),
                                                                                     _WEIGHT]),
    ("multilabel_margin_loss", lambda x, t: F.multilabel_margin_loss(x, t),
     [_normal(3, 4), np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]])]),
    ("ctc_loss", lambda x, t, il, tl: F.ctc_loss(x.log_softmax(2), t, il, tl),
     [_normal(6, 2, 4), np.array([[1, 2, 1], [3, 3, 0]]), np.array([6, 5]), np.array([3, 2])]),
]


@pytest.mark.parametrize("name, fn, arrays", LOSSES, ids=[c[0] for c in LOSSES])
def test_losses_on_the_strict_backend(strict_device, name, fn, arrays):
    assert_function_same_on_device(fn, arrays, strict_device)


def test_every_loss_of_F_is_covered():
    covered = {name.split()[0] for name, _, _ in LOSSES}
    assert covered == {name for name in F.__all__ if name.endswith("_loss") or name in
                       ("cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div")}


# ------------------------------------------------------------------------ normalization, embedding, dropout
LAYERS = [
    ("BatchNorm1d (N, C) train", lambda: nn.BatchNorm1d(3), [_normal(5, 3)], True),
    ("BatchNorm1d (N, C, L) eval", lambda: nn.BatchNorm1d(3), [_normal(4, 3, 2)], False),
    ("BatchNorm2d train", lambda: nn.BatchNorm2d(3), [_normal(2, 3, 4, 4)], True),
    ("BatchNorm2d eval", lambda: nn.BatchNorm2d(3), [_normal(2, 3, 4, 4)], False),
    ("BatchNorm2d cumulative average", lambda: nn.BatchNorm2d(3, momentum=None), [_normal(2, 3, 2, 2)], True),
    ("BatchNorm2d no running stats", lambda: nn.BatchNorm2d(3, track_running_stats=False), [_normal(2, 3, 2, 2)],
     False),
    ("LayerNorm", lambda: nn.LayerNorm((3, 4)), [_normal(2, 3, 4)], True),
    ("LayerNorm no bias", lambda: nn.LayerNorm(4, bias=False), [_normal(2, 3, 4)], True),
    ("GroupNorm", lambda: nn.GroupNorm(2, 4), [_normal(3, 4, 5)], True),
    ("RMSNorm", lambda: nn.RMSNorm([3, 4]), [_normal(2, 3, 4)], True),
    ("Embedding padding_idx", lambda: nn.Embedding(6, 3, padding_idx=1), [_classes(6, 4, 5)], True),
    ("Embedding scale_grad_by_freq", lambda: nn.Embedding(6, 3, scale_grad_by_freq=True), [_classes(6, 7)], True),
    ("Embedding max_norm", lambda: nn.Embedding(6, 3, max_norm=1.0), [_classes(6, 7)], True),
    ("Dropout", lambda: nn.Dropout(0.4), [_normal(4, 6)], True),
    ("Dropout eval", lambda: nn.Dropout(0.4), [_normal(4, 6)], False),
    ("Dropout1d", lambda: nn.Dropout1d(0.5), [_normal(3, 4, 5)], True),
    ("Dropout2d", lambda: nn.Dropout2d(0.5), [_normal(2, 4, 3, 3)], True),
    ("Dropout3d", lambda: nn.Dropout3d(0.5), [_normal(2, 4, 2, 2, 2)], True),
    ("InstanceNorm2d running stats train", lambda: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
     [_normal(2, 3, 3, 4)], True),
    ("InstanceNorm1d running stats eval", lambda: nn.InstanceNorm1d(3, track_running_stats=True), [_normal(3, 5)],
     False),
    ("LocalResponseNorm", lambda: nn.LocalResponseNorm(3, alpha=0.1), [_normal(2, 5, 3, 2)], True),
    ("Softmax2d", lambda: nn.Softmax2d(), [_normal(2, 3, 2, 2)], True),
    ("ReflectionPad2d", lambda: nn.ReflectionPad2d((1, 2, 2, 0)), [_normal(2, 3, 3, 4)], True),
    ("CircularPad3d", lambda: nn.CircularPad3d(1), [_normal(2, 2, 3, 3)], True),
    ("ZeroPad2d cropping", lambda: nn.ZeroPad2d((-1, 2, 1, -1)), [_normal(2, 3, 3, 4)], True),
]


@pytest.mark.parametrize("name, build, arrays, train", LAYERS, ids=[c[0] for c in LAYERS])
def test_layers_on_the_strict_backend(strict_device, name, build, arrays, train):
    assert_layer_same_on_device(build, arrays, strict_device, train)


FUNCTIONS = [
    ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [_normal(2, 3, 5), _normal(3), _normal(3)]),
    ("batch_norm without running stats", lambda x: F.batch_norm(x, None, None, training=False), [_normal(4, 3)]),
    ("rms_norm", lambda x, w: F.rms_norm(x, (4,), w, eps=1e-6), [_normal(3, 4), _normal(4)]),
    ("embedding", lambda w, i: F.embedding(i, w, padding_idx=0), [_normal(5, 2), _classes(5, 3, 4)]),
    ("dropout p=1", lambda x: F.dropout(x, 1.0), [_normal(3, 2)]),
    ("scaled_dot_product_attention causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     [_normal(2, 4, 3), _normal(2, 4, 3), _normal(2, 4, 2)]),
    ("scaled_dot_product_attention bool mask dropout", lambda q, k, v, m: F.scaled_dot_product_attention(
        q, k, v, attn_mask=m > 0, dropout_p=0.3), [_normal(2, 3, 3), _normal(2, 4, 3), _normal(2, 4, 2), _normal(3, 4)]),
    ("scaled_dot_product_attention float mask gqa", lambda q, k, v, m: F.scaled_dot_product_attention(
        q, k, v, attn_mask=m, enable_gqa=True), [_normal(1, 4, 3, 2), _normal(1, 2, 5, 2), _normal(1, 2, 5, 3),
                                                 _normal(3, 5)]),
    ("unfold", lambda x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [_normal(2, 3, 5, 6)]),
    ("fold", lambda c: F.fold(c, (4, 5), 2, padding=1, stride=2), [_normal(2, 8, 9)]),
    ("pixel_shuffle", lambda x: F.pixel_unshuffle(F.pixel_shuffle(x, 2) * 2, 2), [_normal(1, 8, 2, 3)]),
]
for _mode, _shape, _corners in [("nearest", (1, 2, 5), None), ("nearest-exact", (1, 2, 3, 4), None),
                                ("linear", (2, 2, 5), True), ("bilinear", (1, 2, 3, 4), False),
                                ("bicubic", (1, 2, 4, 3), None), ("trilinear", (1, 1, 2, 3, 2), True),
                                ("area", (1, 2, 6, 4), None)]:
    FUNCTIONS.append((f"interpolate {_mode}", lambda x, m=_mode, c=_corners: F.interpolate(
        x, scale_factor=1.7 if m != "area" else 0.5, mode=m, align_corners=c), [_normal(*_shape)]))
FUNCTIONS.append(("interpolate bilinear size", lambda x: F.interpolate(x, size=(2, 7), mode="bilinear"),
                  [_normal(1, 2, 3, 4)]))


@pytest.mark.parametrize("name, fn, arrays", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_functions_on_the_strict_backend(strict_device, name, fn, arrays):
    assert_function_same_on_device(fn, arrays, strict_device)


# ------------------------------------------------------------------------------- attention and Transformer
def _mha(layer, q, k, v, key_padding, attn_mask):
    out, weights = layer(q, k, v, key_padding_mask=key_padding > 0.5, attn_mask=attn_mask)
    return out, weights


def _encoder(causal):
    def call(layer, x, key_padding):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device, dtype=x.dtype)
        return layer(x, src_mask=mask if causal else None, src_key_padding_mask=key_padding > 1.5,
                     is_causal=causal)
    return call


_KEY_PADDING = np.array([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
ATTENTION = [
    ("MultiheadAttention masks", lambda: nn.MultiheadAttention(6, 2, batch_first=True), _mha,
     [_normal(2, 3, 6), _normal(2, 4, 6), _normal(2, 4, 6), _KEY_PADDING, _normal(3, 4)]),
    ("MultiheadAttention kdim bias_kv zero_attn dropout", lambda: nn.MultiheadAttention(
        4, 2, dropout=0.3, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True), _mha,
     [_normal(3, 2, 4), _normal(4, 2, 3), _normal(4, 2, 5), _KEY_PADDING, _normal(3, 4)]),
    ("TransformerEncoderLayer causal", lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
     _encoder(True), [_normal(2, 4, 8), _KEY_PADDING]),
    ("TransformerEncoderLayer norm_first gelu padding", lambda: nn.TransformerEncoderLayer(
        8, 2, 16, activation="gelu", norm_first=True, batch_first=True), _encoder(False),
     [_normal(2, 4, 8), _KEY_PADDING * 2]),
]


def _transformer(layer, src, tgt):
    mask = layer.generate_square_subsequent_mask(tgt.shape[1], device=tgt.device, dtype=tgt.dtype)
    return layer(src, tgt, tgt_mask=mask)  # the decoder detects the causal mask itself


def _seq2seq(teacher_forcing):
    def call(layer, src, tgt):
        return layer(src, tgt, teacher_forcing_ratio=teacher_forcing), layer.greedy_decode(src, 3)
    return call


ATTENTION += [
    ("Transformer causal target", lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.2, batch_first=True), _transformer,
     [_normal(2, 5, 8), _normal(2, 3, 8)]),
    ("PositionalEncoding", lambda: nn.PositionalEncoding(6, max_len=10, dropout=0.1), lambda layer, x: layer(x),
     [_normal(4, 2, 6)]),
    ("Seq2Seq additive", lambda: nn.Seq2Seq(5, 6, 4, 5, attention="additive"), _seq2seq(0.5),
     [_classes(5, 2, 4), _classes(6, 2, 3)]),
    ("Seq2Seq luong teacher forcing", lambda: nn.Seq2Seq(5, 6, 4, 5, rnn=nn.LSTM, attention="general"),
     _seq2seq(1.0), [_classes(5, 2, 4), _classes(6, 2, 3)]),
]


@pytest.mark.parametrize("name, build, call, arrays", ATTENTION, ids=[c[0] for c in ATTENTION])
def test_attention_layers_on_the_strict_backend(strict_device, name, build, call, arrays):
    assert_layer_same_on_device(build, arrays, strict_device, call=call)


def test_the_generated_causal_mask_is_made_on_its_device(strict_device):
    mask = nn.Transformer.generate_square_subsequent_mask(3, device=strict_device)
    assert mask.device == soma.device(strict_device, 0)
    np.testing.assert_array_equal(mask.cpu().numpy(), nn.Transformer.generate_square_subsequent_mask(3).numpy())


# ------------------------------------------------------------------------------------------ packed sequences
def _packed_round_trip(enforce_sorted, batch_first):
    def fn(x):
        lengths = [4, 3, 1] if enforce_sorted else [2, 4, 3]
        packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
        assert packed.batch_sizes.device == soma.device("cpu")  # bookkeeping on the host, as PyTorch's
        padded, out_lengths = rnn_utils.pad_packed_sequence(packed, batch_first, padding_value=-1.5, total_length=5)
        assert out_lengths.tolist() == lengths
        unsorted = [] if packed.unsorted_indices is None else [packed.unsorted_indices]
        return [packed.data, padded, *unsorted, *rnn_utils.unpack_sequence(packed)]
    return fn


def _pad_sequences(side, batch_first):
    def fn(a, b, c):
        return rnn_utils.pad_sequence([a, b[:1], c], batch_first=batch_first, padding_value=0.5, padding_side=side)
    return fn


PACKING = [
    ("pack and pad sorted", _packed_round_trip(True, False), [_normal(4, 3, 2)]),
    ("pack and pad unsorted batch_first", _packed_round_trip(False, True), [_normal(3, 4, 2)]),
    ("pad_sequence right", _pad_sequences("right", False), [_normal(3, 2), _normal(2, 2), _normal(4, 2)]),
    ("pad_sequence left batch_first", _pad_sequences("left", True), [_normal(3), _normal(2), _normal(4)]),
    ("pack_sequence", lambda a, b: rnn_utils.pack_sequence([a, b], enforce_sorted=False).data,
     [_normal(2, 3), _normal(3, 3)]),
]


@pytest.mark.parametrize("name, fn, arrays", PACKING, ids=[c[0] for c in PACKING])
def test_packed_sequences_on_the_strict_backend(strict_device, name, fn, arrays):
    assert_function_same_on_device(fn, arrays, strict_device)


# ------------------------------------------------------------------------- init, construction, state_dict
INITS = [
    ("uniform_", lambda w: nn.init.uniform_(w, -0.5, 2.0)), ("normal_", lambda w: nn.init.normal_(w, 1.0, 0.3)),
    ("trunc_normal_", lambda w: nn.init.trunc_normal_(w, std=2.0)), ("constant_", lambda w: nn.init.constant_(w, 0.7)),
    ("ones_", nn.init.ones_), ("zeros_", nn.init.zeros_), ("eye_", nn.init.eye_),
    ("xavier_uniform_", nn.init.xavier_uniform_), ("xavier_normal_", lambda w: nn.init.xavier_normal_(w, gain=2.0)),
    ("kaiming_uniform_", nn.init.kaiming_uniform_),
    ("kaiming_normal_", lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")),
    ("orthogonal_", nn.init.orthogonal_), ("sparse_", lambda w: nn.init.sparse_(w, 0.5)),
]


@pytest.mark.parametrize("name, init", INITS, ids=[c[0] for c in INITS])
def test_init_fills_a_parameter_on_its_device(strict_device, name, init):
    filled = []
    for device in ("cpu", strict_device):
        weight = nn.Parameter(soma.zeros(4, 6, device=device))
        soma.manual_seed(3)
        assert init(weight) is weight
        filled.append(weight)
    _same(filled[:1], filled[1:], strict_device)


def test_dirac_fills_a_convolution_weight_on_its_device(strict_device):
    weights = [nn.init.dirac_(nn.Parameter(soma.empty(4, 2, 3, 3, device=d)), groups=2) for d in ("cpu", strict_device)]
    _same(weights[:1], weights[1:], strict_device)


class _Net(nn.Module):
    def __init__(self, device=None):
        super().__init__()
        self.embed = nn.Embedding(7, 4, padding_idx=0, device=device)
        self.norm = nn.BatchNorm1d(4, device=device)
        self.rms = nn.RMSNorm(4, device=device)
        self.attn = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, device=device)
        self.head = nn.Linear(4, 3, device=device)

    def forward(self, tokens):
        x = self.embed(tokens)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        return self.head(self.attn(self.rms(x)).mean(0))


def test_a_model_built_with_device_trains_and_round_trips_its_state_dict(strict_device, tmp_path):
    soma.manual_seed(0)
    model = _Net(device=strict_device)
    tensors = [*model.parameters(), *model.buffers()]
    assert all(t.device == soma.device(strict_device, 0) for t in tensors)
    tokens = soma.tensor(_classes(7, 5, 2), device=strict_device)
    F.cross_entropy(model(tokens), soma.tensor([0, 2], device=strict_device)).backward()
    soma.save(model.state_dict(), tmp_path / "net.safetensors")
    loaded = soma.load(tmp_path / "net.safetensors")
    assert set(loaded) == set(model.state_dict())
    soma.manual_seed(1)
    on_host, on_device = _Net(), _Net(device=strict_device)  # other weights, then the saved ones loaded
    for copy in (on_host, on_device):
        copy.load_state_dict(loaded)
        for (key, saved), (_, mine) in zip(model.state_dict().items(), copy.state_dict().items()):
            np.testing.assert_array_equal(mine.cpu().numpy(), saved.cpu().numpy(), err_msg=key)
    on_host.load_state_dict(model.state_dict())  # from the device's tensors straight into the host's
    assert on_device.head.weight.device == soma.device(strict_device, 0)
    np.testing.assert_array_equal(on_host.head.weight.detach().numpy(), model.head.weight.detach().cpu().numpy())


# --------------------------------------------------------------- second order: the decompositions on the device
def _with_first_derivatives(f):
    """``f``'s outputs and their first derivatives as a differentiable graph (create_graph=True), so the backward
    of the comparison runs through the kernels' composites (:mod:`soma.nn.functional.decomp`)."""
    def fn(*xs):
        out = f(*xs)
        out = out[0] if isinstance(out, tuple) else out
        wrt = [x for x in xs if x.requires_grad]
        grads = soma.autograd.grad((out * out).sum(), wrt, create_graph=True, allow_unused=True)
        return [out, *(g for g in grads if g is not None)]
    return fn


SECOND_ORDER = [
    ("cross_entropy", lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.3),
     [_normal(5, 4), _classes(4, 5), _WEIGHT[:4]]),
    ("cross_entropy all ignored", lambda x, t: F.cross_entropy(x, t * 0 + 1, ignore_index=1),
     [_normal(3, 4), _classes(4, 3)]),
    ("nll_loss sum", lambda x, t: F.nll_loss(x, t, reduction="sum"), [_normal(5, 4), _classes(4, 5)]),
    ("binary_cross_entropy", lambda p, y: F.binary_cross_entropy(p, y), [_probabilities(3, 2), _probabilities(3, 2)]),
    ("bce_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y), [_normal(3, 2), _probabilities(3, 2)]),
    ("huber_loss", lambda x, y: F.huber_loss(x, y, delta=0.4), [_normal(3, 2), _normal(3, 2)]),
    ("kl_div", lambda x, y: F.kl_div(x, y.relu()), [_normal(3, 2), _normal(3, 2)]),
    ("soft_margin_loss", lambda x, y: F.soft_margin_loss(x, y.sign().detach()), [_normal(3, 2), _normal(3, 2)]),
    ("batch_norm train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     [_normal(4, 3, 2), _normal(3), _normal(3)]),
    ("batch_norm eval", lambda x, m, v: F.batch_norm(x, m.detach(), v.detach().abs() + 1), [_normal(4, 3), _normal(3),
                                                                                          _normal(3)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3,), w, b), [_normal(2, 3), _normal(3), _normal(3)]),
    ("rms_norm", lambda x, w: F.rms_norm(x, (3,), w), [_normal(2, 3), _normal(3)]),
    ("embedding", lambda w, i: F.embedding(i, w, padding_idx=2) ** 2, [_normal(4, 3), _classes(4, 5)]),
    ("dropout", lambda x: F.dropout(x, 0.4) ** 2, [_normal(3, 4)]),
    ("activations", lambda x: (F.elu(x) + F.leaky_relu(x, 0.2) + F.hardtanh(x) + F.threshold(x, 0.1, -2.0)
                               + F.softplus(x, 2.0) + F.hardsigmoid(x) + F.gelu(x) + F.prelu(x, x[:1, :1].reshape(1)))
     ** 2, [_normal(3, 4)]),
    ("attention", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m > 0), [
        _normal(2, 3, 2), _normal(2, 4, 2), _normal(2, 4, 3), np.array([[1.0, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]])]),
    ("attention causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     [_normal(3, 2), _normal(3, 2), _normal(3, 2)]),
    ("bilinear", lambda a, b, w: F.bilinear(a, b, w), [_normal(2, 3), _normal(2, 2), _normal(4, 3, 2)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2, stride=1, padding=1), [_normal(1, 2, 3, 3)]),
    ("LSTM reference with lengths", lambda x, h, c, wi, wh: reference.layer("LSTM", x, h, c, wi, wh, lengths=[3, 1]),
     [_normal(3, 2, 2), _normal(2, 3), _normal(2, 3), _normal(12, 2), _normal(12, 3)]),
]


# Second derivatives run the engine's create_graph path (autograd.graph.Adjoint) on the device too.
@pytest.mark.parametrize("name, fn, arrays", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_on_the_strict_backend(strict_device, name, fn, arrays):
    assert_function_same_on_device(_with_first_derivatives(fn), arrays, strict_device)


# ---------------------------------------------------------------------------- trees, parametrizations, utils
_TREES = [((0, 1), 2), (3, (4, (0, 1))), 2]
MORE_LAYERS = [
    ("RecursiveNN", lambda: nn.RecursiveNN(4, num_embeddings=5), lambda layer: layer(nn.TreeBatch.from_trees(_TREES)),
     []),
    ("RecursiveNN given leaves", lambda: nn.RecursiveNN(3, nonlinearity="relu"),
     lambda layer, leaves: layer(nn.TreeBatch.from_trees(_TREES), leaves), [_normal(8, 3)]),
    ("weight_norm", lambda: nn.utils.parametrizations.weight_norm(nn.Linear(3, 4)), lambda layer, x: layer(x),
     [_normal(2, 3)]),
    ("spectral_norm", lambda: nn.utils.parametrizations.spectral_norm(nn.Linear(3, 4)), lambda layer, x: layer(x),
     [_normal(2, 3)]),
]


@pytest.mark.parametrize("name, build, call, arrays", MORE_LAYERS, ids=[c[0] for c in MORE_LAYERS])
def test_more_layers_on_the_strict_backend(strict_device, name, build, call, arrays):
    assert_layer_same_on_device(build, arrays, strict_device, call=call)


def test_a_spectral_norm_registered_on_the_device_keeps_its_vectors_there(strict_device):
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(3, 4, device=strict_device))
    assert {b.device for b in layer.buffers()} == {soma.device(strict_device, 0)}
    assert layer(soma.randn(2, 3, device=strict_device)).device == soma.device(strict_device, 0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_gradient_clipping_and_parameter_vectors_on_the_strict_backend(strict_device, norm_type):
    results = []
    for device in ("cpu", strict_device):
        soma.manual_seed(0)
        layer = _randomized(nn.Linear(4, 3).double()).to(device)
        (layer(soma.tensor(_RNG_FIXED, device=device)) ** 2).sum().backward()
        total = nn.utils.clip_grad_norm_(layer.parameters(), 0.5, norm_type)
        nn.utils.clip_grad_value_(layer.parameters(), 0.1)
        vector = nn.utils.parameters_to_vector(layer.parameters())
        nn.utils.vector_to_parameters(vector * 2, layer.parameters())
        results.append([total, vector, *[p.grad for p in layer.parameters()], *layer.parameters()])
    _same(*results, strict_device)


_RNG_FIXED = np.random.default_rng(7).standard_normal((5, 4))


def test_embedding_takes_python_indices_beside_its_weight(strict_device):
    table = _normal(4, 2)
    weights = [soma.tensor(table, device=d) for d in ("cpu", strict_device)]
    _same([F.embedding([[0, 3], [2, 2]], weights[0])], [F.embedding([[0, 3], [2, 2]], weights[1])], strict_device)


# ------------------------------------------------------------------------------------- bad input on the device
BAD_INPUTS = [
    ("cross_entropy target out of range", lambda d: F.cross_entropy(soma.randn(2, 3, device=d),
                                                                     soma.tensor([0, 5], device=d)),
     IndexError, "cross_entropy: target 5 is out of bounds for 3 classes"),
    ("binary_cross_entropy outside [0, 1]", lambda d: F.binary_cross_entropy(
        soma.tensor([0.5, 1.5], device=d), soma.tensor([0.0, 1.0], device=d)), RuntimeError, "got 1.5 in input"),
    ("embedding index out of range", lambda d: F.embedding(soma.tensor([1, 7], device=d), soma.randn(4, 2, device=d)),
     IndexError, r"embedding: index out of range: indices must be in \[0, 4\), got min 1 and max 7"),
    ("batch_norm one value per channel", lambda d: F.batch_norm(soma.randn(1, 3, device=d), None, None, training=True),
     ValueError, "batch_norm: Expected more than 1 value per channel"),
    ("layer_norm shape", lambda d: F.layer_norm(soma.randn(2, 3, device=d), (4,)), RuntimeError,
     r"layer_norm: expected input with shape \(\*, 4\), got \(2, 3\)"),
]


@pytest.mark.parametrize("name, call, error, message", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_on_the_device_gets_the_cpus_error(strict_device, name, call, error, message):
    for device in ("cpu", strict_device):
        with pytest.raises(error, match=message):
            call(device)
