"""Recompute, in float64 NumPy, every worked numerical example of the lecture
notes (../shared/seeds/000..004) catalogued in docs/notes-examples.md.

Run:  .venv/bin/python docs/notes_examples_check.py          (all examples)
      .venv/bin/python docs/notes_examples_check.py N004     (ids containing N004)

Plain Python + NumPy only; nothing from soma is imported, so the values here
are an independent reference for soma's tests. Every example prints its id
followed by its recomputed quantities (12 significant digits).
"""

import sys

import numpy as np

np.set_printoptions(precision=12, linewidth=110, suppress=False)

F64 = np.float64
EXAMPLES = []


def example(fn):
    EXAMPLES.append(fn)
    return fn


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=F64)))


def step_ge0(z):
    """Step used by notes 000/004: 1 if z >= 0 else 0."""
    return (np.asarray(z, dtype=F64) >= 0).astype(np.int64)


def show(name, value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub":
            print(f"  {name} =\n{value}" if value.ndim > 1 else f"  {name} = {value}")
        else:
            text = np.array2string(value, precision=12, separator=", ",
                                   formatter={"float_kind": lambda v: f"{v:.12g}"})
            print(f"  {name} =\n{text}" if value.ndim > 1 else f"  {name} = {text}")
    elif isinstance(value, (float, np.floating)):
        print(f"  {name} = {float(value):.12g}")
    else:
        print(f"  {name} = {value}")


def corr2d(x, k, stride=1):
    """Valid 2-D cross-correlation (what PyTorch's conv2d computes)."""
    x = np.asarray(x, dtype=F64)
    k = np.asarray(k, dtype=F64)
    kh, kw = k.shape
    oh = (x.shape[0] - kh) // stride + 1
    ow = (x.shape[1] - kw) // stride + 1
    out = np.empty((oh, ow), dtype=F64)
    for i in range(oh):
        for j in range(ow):
            r, c = i * stride, j * stride
            out[i, j] = np.sum(x[r:r + kh, c:c + kw] * k)
    return out


def pool2d(x, size, stride, op):
    x = np.asarray(x, dtype=F64)
    oh = (x.shape[0] - size) // stride + 1
    ow = (x.shape[1] - size) // stride + 1
    out = np.empty((oh, ow), dtype=F64)
    for i in range(oh):
        for j in range(ow):
            out[i, j] = op(x[i * stride:i * stride + size, j * stride:j * stride + size])
    return out


def conv_out(n, k, s=1, p=0):
    return (n + 2 * p - k) // s + 1


# --------------------------------------------------------------------------
# notes 000
# --------------------------------------------------------------------------

@example
def N000_logic_gates():
    """AND / OR / NOT single step neurons, f(x) = 1 if x >= 0 else 0."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=F64)
    and_net = -1.5 + X[:, 0] + X[:, 1]
    or_net = -0.5 + X[:, 0] + X[:, 1]
    x1 = np.array([0.0, 1.0])
    not_net = 1.0 - 2.0 * x1
    show("inputs (x1,x2) rows", X.astype(np.int64))
    show("AND net -1.5+x1+x2", and_net)
    show("AND out", step_ge0(and_net))
    show("OR net -0.5+x1+x2", or_net)
    show("OR out", step_ge0(or_net))
    show("NOT x1", x1.astype(np.int64))
    show("NOT net 1-2*x1", not_net)
    show("NOT out", step_ge0(not_net))


@example
def N000_xnor_net():
    """XNOR from three step neurons: a1 = NOR-like A'.B', a2 = AND, a3 = OR(a1, a2)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=F64)
    n1 = 0.5 - X[:, 0] - X[:, 1]
    a1 = step_ge0(n1)
    n2 = -1.5 + X[:, 0] + X[:, 1]
    a2 = step_ge0(n2)
    n3 = -0.5 + a1 + a2
    a3 = step_ge0(n3)
    show("a1 net 0.5-x1-x2", n1)
    show("a1", a1)
    show("a2 net -1.5+x1+x2", n2)
    show("a2", a2)
    show("a3 net -0.5+a1+a2", n3.astype(F64))
    show("a3 (XNOR)", a3)


@example
def N000_chain_1_1_1():
    """One input -> one sigmoid hidden -> one sigmoid output, E = 1/2 (T-a2)^2, lr 0.4."""
    x1, w1, b1, w2, b2, T, lr = 0.1, 0.15, 0.40, 0.45, 0.65, 0.25, 0.4
    z1 = w1 * x1 + b1
    a1 = sigmoid(z1)
    z2 = w2 * a1 + b2
    a2 = sigmoid(z2)
    E = 0.5 * (T - a2) ** 2
    dE_da2 = a2 - T
    da2_dz2 = a2 * (1 - a2)
    delta2 = dE_da2 * da2_dz2
    g_w2 = delta2 * a1
    g_b2 = delta2
    da1_dz1 = a1 * (1 - a1)
    delta1 = delta2 * w2 * da1_dz1          # uses the OLD w2 = 0.45
    g_w1 = delta1 * x1
    g_b1 = delta1
    new = dict(w1=w1 - lr * g_w1, b1=b1 - lr * g_b1, w2=w2 - lr * g_w2, b2=b2 - lr * g_b2)
    for k, v in [("z1", z1), ("a1", a1), ("z2", z2), ("a2", a2), ("E", E),
                 ("dE/da2 = a2-T", dE_da2), ("a2(1-a2)", da2_dz2), ("delta2", delta2),
                 ("dE/dw2", g_w2), ("dE/db2", g_b2), ("a1(1-a1)", da1_dz1),
                 ("delta1", delta1), ("dE/dw1", g_w1), ("dE/db1", g_b1)]:
        show(k, v)
    for k, v in new.items():
        show(k + "'", v)
    # second forward pass with the updated parameters (not in the notes)
    a1n = sigmoid(new["w1"] * x1 + new["b1"])
    a2n = sigmoid(new["w2"] * a1n + new["b2"])
    show("[extension] a2 after update", a2n)
    show("[extension] E after update", 0.5 * (T - a2n) ** 2)


@example
def N000_conv_figure():
    """Figure 'convolution operation': 5x5 input, 2x2 kernel [[0,1],[0,1]] (reconstructed)."""
    img = np.array([[25, 110, 65, 0, 34],
                    [15, 14, 10, 54, 66],
                    [65, 76, 54, 200, 210],
                    [176, 5, 73, 67, 89],
                    [63, 90, 95, 111, 175]], dtype=F64)
    k = np.array([[0, 1], [0, 1]], dtype=F64)
    show("valid cross-correlation 4x4", corr2d(img, k))
    show("n-f+1 for n=5, f=2", conv_out(5, 2))
    show("outputs (n-f+1)^2", conv_out(5, 2) ** 2)
    show("224*224*3", 224 * 224 * 3)


# --------------------------------------------------------------------------
# notes 001
# --------------------------------------------------------------------------

@example
def N001_step_function():
    """Step with threshold 0: Z=5 -> 1, Z=-2 -> 0."""
    show("step(5), step(-2), step(0)", step_ge0(np.array([5.0, -2.0, 0.0])))


@example
def N001_two_layer_forward():
    """x=(95,4,4), w=(0.01,0.02,0.03), b=0.01 -> sigmoid; then w=0.02, b2=0.03 -> sigmoid; target 1."""
    x = np.array([95.0, 4.0, 4.0])
    w = np.array([0.01, 0.02, 0.03])
    b = 0.01
    z1 = x @ w + b
    a1 = sigmoid(z1)
    z2 = a1 * 0.02 + 0.03
    a2 = sigmoid(z2)
    show("z1", z1)
    show("a1 = sigmoid(z1)", a1)
    show("sigmoid(1.151) (notes' z1)", sigmoid(1.151))
    show("z2 = a1*0.02 + 0.03", z2)
    show("a2 = sigmoid(z2)", a2)
    show("z2 with notes' a1=0.759", 0.759 * 0.02 + 0.03)
    show("sigmoid(0.759*0.02+0.03)", sigmoid(0.759 * 0.02 + 0.03))
    show("y - a2 (target 1)", 1 - a2)
    show("(y - a2)^2", (1 - a2) ** 2)
    show("notes: 1 - 0.5429", 1 - 0.5429)
    show("logit(0.5429) (what z the notes' 0.5429 implies)", np.log(0.5429 / (1 - 0.5429)))


@example
def N001_softmax_animals():
    """Logits cat -1, dog 0, monkey 3, horse 5."""
    z = np.array([-1.0, 0.0, 3.0, 5.0])
    e = np.exp(z)
    p = e / e.sum()
    show("exp(z)", e)
    show("sum exp", e.sum())
    show("softmax over all 4", p)
    show("exp(z)/(e^-1+e^0+e^3) (notes' denominator)", e / e[:3].sum())
    show("softmax over first 3 (cat,dog,monkey)", e[:3] / e[:3].sum())
    notes = np.array([0.00033, 0.0024, 0.0183, 0.1853])
    show("notes' normalisation 0.1853/sum(notes)", notes[3] / notes.sum())


@example
def N001_sigmoid_derivative_max():
    """Notes: 0 <= sigma'(z) <= 0.25."""
    z = np.linspace(-10, 10, 200001)
    s = sigmoid(z)
    d = s * (1 - s)
    show("max sigma'(z) on [-10,10]", d.max())
    show("argmax z", z[d.argmax()])


# --------------------------------------------------------------------------
# notes 002
# --------------------------------------------------------------------------

@example
def N002_logreg():
    x = np.array([1.0, 2.0, 3.0])
    a = np.array([0.01, 0.02, 0.03])
    b = 0.05
    z = b + a @ x
    p = sigmoid(z)
    show("z", z)
    show("p", p)
    show("class (p >= 0.5)", int(p >= 0.5))


@example
def N002_bce():
    y1, p1 = 1.0, 0.8
    y0, p0 = 0.0, 0.3
    l1 = -(y1 * np.log(p1) + (1 - y1) * np.log(1 - p1))
    l0 = -(y0 * np.log(p0) + (1 - y0) * np.log(1 - p0))
    show("BCE(y=1, P=0.8)", l1)
    show("BCE(y=0, P=0.3)", l0)
    show("mean of the two (reduction='mean')", (l1 + l0) / 2)


@example
def N002_mse():
    y = np.array([3.0, -0.5, 2.0])
    yh = np.array([2.5, 0.0, 2.0])
    se = (y - yh) ** 2
    show("squared errors", se)
    show("sum", se.sum())
    show("MSE (mean)", se.mean())


@example
def N002_l1_l2():
    orig, w, lam = 0.4, np.array([0.5, -0.3]), 0.1
    l1 = lam * np.abs(w).sum()
    l2 = lam * (w ** 2).sum()
    show("L1 penalty", l1)
    show("total with L1", orig + l1)
    show("L2 penalty", l2)
    show("total with L2", orig + l2)
    show("[extension] d(L1 penalty)/dw = lam*sign(w)", lam * np.sign(w))
    show("[extension] d(L2 penalty)/dw = 2*lam*w", 2 * lam * w)


@example
def N002_adagrad():
    lr, eps = 0.1, 1e-8
    p = np.array([0.5, -0.3, 0.1])          # w1, w2, b
    g = np.array([0.2, -0.4, 0.1])
    G = np.array([0.04, 0.16, 0.01])        # = g**2: first step from a zero accumulator
    rate_in = lr / np.sqrt(G + eps)         # notes: eps inside the sqrt
    new_in = p - rate_in * g
    rate_out = lr / (np.sqrt(G) + 1e-10)    # torch.optim.Adagrad: eps=1e-10 outside the sqrt
    new_out = p - rate_out * g
    show("G == g**2", bool(np.allclose(G, g ** 2)))
    show("per-parameter rate lr/sqrt(G+eps)", rate_in)
    show("new (w1,w2,b), eps inside sqrt", new_in)
    show("new (w1,w2,b), torch Adagrad (eps=1e-10 outside)", new_out)
    show("new, eps=0 exact", p - lr / np.sqrt(G) * g)


@example
def N002_relu_exam():
    """2-2-2 net, ReLU hidden, linear outputs, E = 1/2 sum (t-o)^2, lr 0.1."""
    i1, i2 = 2.0, -1.0
    w11, w12, w21, w22 = 1.0, -0.5, 0.5, -1.0      # w_ab: input a -> hidden b
    w31, w32, w41, w42 = 0.5, -1.0, -0.5, 1.0      # w31: h3->o1, w32: h3->o2, w41: h4->o1, w42: h4->o2
    b1, b2, b3, b4 = 0.5, -0.5, -1.0, 0.5
    t1, t2 = 1.0, 0.5
    lr = 0.1
    h1 = i1 * w11 + i2 * w21 + b1
    h2 = i1 * w12 + i2 * w22 + b2
    h3, h4 = max(0.0, h1), max(0.0, h2)
    o1 = h3 * w31 + h4 * w41 + b3
    o2 = h3 * w32 + h4 * w42 + b4
    E = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
    d_o1, d_o2 = o1 - t1, o2 - t2
    d_h3 = d_o1 * w31 + d_o2 * w32
    d_h4 = d_o1 * w41 + d_o2 * w42
    d_h1 = d_h3 * (1.0 if h1 > 0 else 0.0)
    d_h2 = d_h4 * (1.0 if h2 > 0 else 0.0)
    grads = {
        "w11": d_h1 * i1, "w21": d_h1 * i2, "w12": d_h2 * i1, "w22": d_h2 * i2,
        "w31": d_o1 * h3, "w41": d_o1 * h4, "w32": d_o2 * h3, "w42": d_o2 * h4,
        "b1": d_h1, "b2": d_h2, "b3": d_o1, "b4": d_o2,
    }
    for k, v in [("h1", h1), ("h2", h2), ("h3", h3), ("h4", h4), ("o1", o1), ("o2", o2),
                 ("E = 1/2 sum (t-o)^2 (= mean sq. err over 2 outputs)", E),
                 ("dE/do1", d_o1), ("dE/do2", d_o2), ("dE/dh3", d_h3), ("dE/dh4", d_h4)]:
        show(k, v)
    for k, v in grads.items():
        show("dE/d" + k, v)
    show("w21'", w21 - lr * grads["w21"])


@example
def N002_tuple_101():
    """Han & Kamber style 3-2-1 sigmoid net, X=(1,0,1), class 1, lr 0.9, biases theta."""
    x = np.array([1.0, 0.0, 1.0])
    W = np.array([[0.2, -0.3],      # w14, w15
                  [0.4, 0.1],       # w24, w25
                  [-0.5, 0.2]])     # w34, w35
    v = np.array([-0.3, -0.2])      # w46, w56
    th_h = np.array([-0.4, 0.2])    # theta4, theta5
    th6 = 0.1
    T, lr = 1.0, 0.9
    I_h = x @ W + th_h
    O_h = sigmoid(I_h)
    I6 = O_h @ v + th6
    O6 = sigmoid(I6)
    Err6 = O6 * (1 - O6) * (T - O6)
    Err_h = O_h * (1 - O_h) * Err6 * v              # uses the OLD w46, w56
    new_v = v + lr * Err6 * O_h
    new_W = W + lr * np.outer(x, Err_h)
    new_th6 = th6 + lr * Err6
    new_th_h = th_h + lr * Err_h
    show("I4, I5", I_h)
    show("O4, O5", O_h)
    show("I6", I6)
    show("O6", O6)
    show("Err6", Err6)
    show("Err4, Err5", Err_h)
    show("new w46, w56", new_v)
    show("new [[w14,w15],[w24,w25],[w34,w35]]", new_W)
    show("new theta6", new_th6)
    show("new theta4, theta5", new_th_h)
    show("E = 1/2 (T-O6)^2 (not in notes)", 0.5 * (T - O6) ** 2)
    # The notes' rounded chain (their 4-digit Err values) for comparison
    show("notes chain: -0.3+0.9*0.1311*0.332", -0.3 + 0.9 * 0.1311 * 0.332)
    show("notes chain: -0.2+0.9*0.1311*0.525", -0.2 + 0.9 * 0.1311 * 0.525)


@example
def N002_conv_output_size():
    n, k, s, p, filters, cin = 32, 6, 2, 1, 8, 32
    o = conv_out(n, k, s, p)
    show("(32-6+2*1)/2+1 (floor)", o)
    show("exact (32-6+2)/2 + 1", (32 - 6 + 2) / 2 + 1)
    show("output shape HxWxC", (o, o, filters))
    show("[extension] weights 8*6*6*32 (+8 biases)", (8 * 6 * 6 * cin, 8 * 6 * 6 * cin + 8))


@example
def N002_lr_curves():
    show("4e-1, 2e-5, 8e-3, 3e-4", np.array([4e-1, 2e-5, 8e-3, 3e-4]))


# --------------------------------------------------------------------------
# notes 003
# --------------------------------------------------------------------------

@example
def N003_conv_shapes():
    show("480*480*3 numbers", 480 * 480 * 3)
    show("32x32x3 * 5x5x3 valid -> side", conv_out(32, 5))
    show("28*28", 28 * 28)
    show("7x7 kernel -> side", conv_out(32, 7))
    show("curve detector 4*(50*30)+(20*30)", 4 * (50 * 30) + (20 * 30))


@example
def N003_classifier_vectors():
    out = np.array([0, .1, .1, .75, 0, 0, 0, 0, 0, .05])
    show("sum of notes' output vector", out.sum())
    show("argmax", int(out.argmax()))
    show("one-hot for digit 3 (10 classes)", np.eye(10, dtype=np.int64)[3])
    y = np.eye(10)[3]
    show("[extension] E_total = sum 1/2 (target-output)^2", 0.5 * ((y - out) ** 2).sum())
    u = np.full(10, 0.1)
    show("[extension] E_total for uniform 0.1 output", 0.5 * ((y - u) ** 2).sum())


@example
def N003_iterations():
    show("10000 / 200 iterations per epoch", 10000 // 200)


# --------------------------------------------------------------------------
# notes 004
# --------------------------------------------------------------------------

@example
def N004_mp_neuron():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=F64)
    S = X @ np.array([1.0, 1.0])
    show("S", S)
    show("Y for theta=1.5", (S >= 1.5).astype(np.int64))
    n, w, p = 2, 1, 0
    theta = n * w - p
    show("theta = n*w - p", theta)
    show("Y for theta=2 (y_in >= 2)", (S >= theta).astype(np.int64))
    show("Y for theta=3 (a theta strictly > 2)", (S >= 3).astype(np.int64))


@example
def N004_adaline_lms():
    X = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=F64)
    d = np.array([1, -1, -1, -1], dtype=F64)
    w = np.array([0.2, -0.3])
    b = 0.1
    lr = 0.1
    for ep in range(1, 3):
        for n in range(4):
            y = w @ X[n] + b
            e = d[n] - y
            w = w + lr * e * X[n]
            b = b + lr * e
            print(f"  epoch {ep} sample {n + 1}: y={y:.12g} e={e:.12g} -> "
                  f"w=({w[0]:.12g}, {w[1]:.12g}) b={b:.12g}")
        mse = np.mean((d - (X @ w + b)) ** 2)
        show(f"MSE on the 4 samples after epoch {ep}", mse)


@example
def N004_xor_sigmoid_net():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=F64)
    n1 = 20 * X[:, 0] + 20 * X[:, 1] - 10
    n2 = -20 * X[:, 0] - 20 * X[:, 1] + 30
    h1, h2 = sigmoid(n1), sigmoid(n2)
    no = 20 * h1 + 20 * h2 - 30
    y = sigmoid(no)
    show("h1 net", n1)
    show("h1", h1)
    show("h2 net", n2)
    show("h2", h2)
    show("y net", no)
    show("y", y)
    show("round(y)", np.round(y).astype(np.int64))
    show("sigmoid(10), sigmoid(-10), 1-sigmoid(30)",
         np.array([sigmoid(10.0), sigmoid(-10.0), 1 - sigmoid(30.0)]))


def _mazur(lr):
    x = np.array([0.05, 0.10])
    W1 = np.array([[0.15, 0.20],    # h1 <- (w1, w2)
                   [0.25, 0.30]])   # h2 <- (w3, w4)
    b1 = 0.35
    W2 = np.array([[0.40, 0.45],    # o1 <- (w5, w6)
                   [0.50, 0.55]])   # o2 <- (w7, w8)
    b2 = 0.60
    t = np.array([0.01, 0.99])
    net_h = W1 @ x + b1
    out_h = sigmoid(net_h)
    net_o = W2 @ out_h + b2
    out_o = sigmoid(net_o)
    E_each = 0.5 * (t - out_o) ** 2
    E = E_each.sum()
    dE_dout_o = out_o - t
    dout_dnet_o = out_o * (1 - out_o)
    delta_o = dE_dout_o * dout_dnet_o
    gW2 = np.outer(delta_o, out_h)
    dE_dout_h_parts = delta_o[:, None] * W2          # [o_k, h_j]: delta_ok * w(h_j->o_k), OLD weights
    dE_dout_h = dE_dout_h_parts.sum(axis=0)
    dout_dnet_h = out_h * (1 - out_h)
    delta_h = dE_dout_h * dout_dnet_h
    gW1 = np.outer(delta_h, x)
    return dict(net_h=net_h, out_h=out_h, net_o=net_o, out_o=out_o, E_each=E_each, E=E,
                dE_dout_o=dE_dout_o, dout_dnet_o=dout_dnet_o, delta_o=delta_o,
                gW2=gW2, dE_dout_h_parts=dE_dout_h_parts, dE_dout_h=dE_dout_h,
                dout_dnet_h=dout_dnet_h, delta_h=delta_h, gW1=gW1,
                newW1=W1 - lr * gW1, newW2=W2 - lr * gW2,
                gb1=delta_h.sum(), gb2=delta_o.sum())


@example
def N004_backprop_222():
    """Mazur 2-2-2 sigmoid net, lr 0.5, biases shared per layer and NOT updated."""
    r = _mazur(0.5)
    show("net_h1, net_h2", r["net_h"])
    show("out_h1, out_h2", r["out_h"])
    show("net_o1, net_o2", r["net_o"])
    show("out_o1, out_o2", r["out_o"])
    show("E_o1, E_o2", r["E_each"])
    show("E_total", r["E"])
    show("dE/dout_o1, dE/dout_o2", r["dE_dout_o"])
    show("out_o(1-out_o)", r["dout_dnet_o"])
    show("delta_o1, delta_o2", r["delta_o"])
    show("dE/d[w5 w6; w7 w8]", r["gW2"])
    show("dE_ok/dout_hj = delta_ok*w [rows o1,o2; cols h1,h2]", r["dE_dout_h_parts"])
    show("dE/dout_h1, dE/dout_h2", r["dE_dout_h"])
    show("out_h(1-out_h)", r["dout_dnet_h"])
    show("delta_h1, delta_h2", r["delta_h"])
    show("dE/d[w1 w2; w3 w4]", r["gW1"])
    show("new [w1 w2; w3 w4]", r["newW1"])
    show("new [w5 w6; w7 w8]", r["newW2"])
    show("[extension] dE/db1 (shared hidden bias)", r["gb1"])
    show("[extension] dE/db2 (shared output bias)", r["gb2"])
    # forward pass with the 8 updated weights (biases unchanged)
    x = np.array([0.05, 0.10])
    oh = sigmoid(r["newW1"] @ x + 0.35)
    oo = sigmoid(r["newW2"] @ oh + 0.60)
    show("[extension] E_total after one update", (0.5 * (np.array([0.01, 0.99]) - oo) ** 2).sum())


@example
def N004_backprop_222_lr06():
    """Same net, the notes' first pass which uses alpha = 0.6."""
    r = _mazur(0.6)
    show("w5' = 0.4 - 0.6*dE/dw5", r["newW2"][0, 0])
    show("w1' = 0.15 - 0.6*dE/dw1", r["newW1"][0, 0])
    show("0.4 - 0.6*0.08216709 (notes' rounded gradient)", 0.4 - 0.6 * 0.08216709)
    show("new [w1 w2; w3 w4] (lr 0.6)", r["newW1"])
    show("new [w5 w6; w7 w8] (lr 0.6)", r["newW2"])


@example
def N004_backprop_222_rounded():
    """Reproduce the notes' 4-5 digit hand chain to show where their digits come from."""
    show("0.59327*0.40 + 0.59689*0.45 + 0.60", 0.59327 * 0.40 + 0.59689 * 0.45 + 0.60)
    show("0.59327*0.50 + 0.59689*0.55 + 0.60", 0.59327 * 0.50 + 0.59689 * 0.55 + 0.60)
    show("0.74136^2, 0.21707^2", np.array([0.74136 ** 2, 0.21707 ** 2]))
    show("0.74136*0.18681", 0.74136 * 0.18681)
    show("-0.21707*0.17529", -0.21707 * 0.17529)
    show("0.55-0.5*(-0.03807*0.59689)", 0.55 - 0.5 * (-0.03807 * 0.59689))
    show("(0.0554-0.01903)*0.2413", (0.0554 - 0.01903) * 0.2413)


@example
def N004_gradient_products():
    show("0.03*0.05", 0.03 * 0.05)
    show("100*500", 100 * 500)


@example
def N004_conv_vertical_edge():
    img = np.array([[1, 2, 3, 0, 1],
                    [4, 5, 6, 1, 2],
                    [7, 8, 9, 2, 3],
                    [1, 2, 3, 4, 5],
                    [6, 7, 8, 9, 0]], dtype=F64)
    k = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=F64)
    show("cross-correlation (PyTorch conv2d), stride 1, no padding", corr2d(img, k))
    show("true convolution (kernel flipped)", corr2d(img, k[::-1, ::-1]))
    show("[extension] padding=1 ('same') cross-correlation", corr2d(np.pad(img, 1), k))
    show("[extension] ReLU of the valid map", np.maximum(corr2d(img, k), 0))


@example
def N004_conv_binary():
    img = np.array([[1, 1, 1, 0, 0],
                    [0, 1, 1, 1, 0],
                    [0, 0, 1, 1, 1],
                    [0, 0, 1, 1, 0],
                    [0, 1, 1, 0, 0]], dtype=F64)
    k = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=F64)
    show("convolved feature (3x3)", corr2d(img, k))


@example
def N004_conv_3ch_bias():
    """Visible top-left corner of each zero-padded channel (row/col 0 is padding)."""
    R = np.array([[0, 0, 0, 0, 0, 0],
                  [0, 156, 155, 156, 158, 158],
                  [0, 153, 154, 157, 159, 159],
                  [0, 149, 151, 155, 158, 159],
                  [0, 146, 146, 149, 153, 158],
                  [0, 145, 143, 143, 148, 158]], dtype=F64)
    G = np.array([[0, 0, 0, 0, 0, 0],
                  [0, 167, 166, 167, 169, 169],
                  [0, 164, 165, 168, 170, 170],
                  [0, 160, 162, 166, 169, 170],
                  [0, 156, 156, 159, 163, 168],
                  [0, 155, 153, 153, 158, 168]], dtype=F64)
    B = np.array([[0, 0, 0, 0, 0, 0],
                  [0, 163, 162, 163, 165, 165],
                  [0, 160, 161, 164, 166, 166],
                  [0, 156, 158, 162, 165, 166],
                  [0, 155, 155, 158, 162, 167],
                  [0, 154, 152, 152, 157, 167]], dtype=F64)
    K1 = np.array([[-1, -1, 1], [0, 1, -1], [0, 1, 1]], dtype=F64)
    K2 = np.array([[1, 0, 0], [1, -1, -1], [1, 0, -1]], dtype=F64)
    K3 = np.array([[0, 1, 1], [0, 1, 0], [1, -1, 1]], dtype=F64)
    bias = 1.0
    c1, c2, c3 = corr2d(R, K1), corr2d(G, K2), corr2d(B, K3)
    show("channel sums at (0,0)", np.array([c1[0, 0], c2[0, 0], c3[0, 0]]))
    show("output (0,0) = sum + bias", c1[0, 0] + c2[0, 0] + c3[0, 0] + bias)
    show("[extension] R part, stride 1 (4x4 determinable)", c1)
    show("[extension] G part", c2)
    show("[extension] B part", c3)
    show("[extension] output block, stride 1", c1 + c2 + c3 + bias)
    show("[extension] output block, stride 2", (c1 + c2 + c3 + bias)[::2, ::2])


@example
def N004_maxpool():
    x = np.array([[3, 3, 2, 1, 0],
                  [0, 0, 1, 3, 1],
                  [3, 1, 2, 2, 3],
                  [2, 0, 0, 2, 2],
                  [2, 0, 0, 0, 1]], dtype=F64)
    show("max pool 3x3 stride 1", pool2d(x, 3, 1, np.max))
    show("[extension] avg pool 3x3 stride 1", pool2d(x, 3, 1, np.mean))
    show("[extension] max pool 2x2 stride 2 (floor)", pool2d(x, 2, 2, np.max))
    show("[extension] max pool 3x3 stride 2", pool2d(x, 3, 2, np.max))


@example
def N004_relu_featuremap():
    x = np.array([[-2, 3, -1], [5, -6, 2], [-3, 4, -7]], dtype=F64)
    show("relu", np.maximum(x, 0))


@example
def N004_lenet_shapes():
    s = 28
    s1 = conv_out(s, 5)
    s2 = conv_out(s1, 2, 2)
    s3 = conv_out(s2, 5)
    s4 = conv_out(s3, 2, 2)
    show("sides 28 -> conv5 -> pool2 -> conv5 -> pool2", (s1, s2, s3, s4))
    show("flatten 4*4*16", s4 * s4 * 16)
    params = [
        ("conv1 6x(5x5x1)+6", 6 * 5 * 5 * 1 + 6),
        ("conv2 16x(5x5x6)+16", 16 * 5 * 5 * 6 + 16),
        ("dense 256->120", 256 * 120 + 120),
        ("dense 120->84", 120 * 84 + 84),
        ("dense 84->10", 84 * 10 + 10),
    ]
    for k, v in params:
        show("[extension] params " + k, v)
    show("[extension] total params", sum(v for _, v in params))


@example
def N004_separable_counts():
    show("3x3 vs 3x1+1x3 mults per pixel", (9, 3 + 3))
    show("standard per output pixel 3*3*3*64", 3 * 3 * 3 * 64)
    show("depthwise per pixel 3*3*3", 3 * 3 * 3)
    show("pointwise per pixel 3*1*1*64", 3 * 1 * 1 * 64)
    show("depthwise separable per pixel", 27 + 192)


@example
def N004_conv_mult_counts():
    H = W = 32
    cin, cout, k = 3, 64, 3
    std = H * W * cout * k * k * cin
    dw = H * W * cin * k * k
    pw = H * W * cin * cout
    show("standard 32*32*64*3*3*3", std)
    show("notes' 56,623,104 / correct", 56623104 / std)
    show("depthwise 32*32*3*3*3", dw)
    show("[extension] pointwise 32*32*3*64", pw)
    show("[extension] depthwise separable total", dw + pw)
    show("[extension] ratio separable/standard", (dw + pw) / std)
    show("[extension] 1/cout + 1/k^2", 1 / cout + 1 / k ** 2)


@example
def N004_rnn_tanh():
    xs = [1.0, 2.0, 3.0]
    h = 0.0
    hs, pre = [], []
    for x in xs:
        a = 1.0 * x + 1.0 * h + 0.0
        h = np.tanh(a)
        pre.append(a)
        hs.append(h)
    show("pre-activations", np.array(pre))
    show("h1, h2, h3", np.array(hs))
    show("notes' rounded chain tanh(2.761), tanh(3.992)", np.tanh(np.array([2.761, 3.992])))


@example
def N004_dropout():
    p = 0.5
    show("inverted-dropout scale 1/(1-p) for p=0.5", 1 / (1 - p))
    show("inverted-dropout scale for p=0.2", 1 / (1 - 0.2))


# --------------------------------------------------------------------------
# Supplementary (NOT in the notes): optimizer first steps on N002-adagrad's numbers
# --------------------------------------------------------------------------

@example
def S_optim_first_step():
    p = np.array([0.5, -0.3, 0.1])
    g = np.array([0.2, -0.4, 0.1])
    lr = 0.1
    show("SGD p - lr*g", p - lr * g)
    # torch SGD momentum: buf = g (first step); p -= lr*buf ; second step with same g: buf = mu*buf + g
    mu = 0.9
    b1 = g.copy()
    p1 = p - lr * b1
    b2 = mu * b1 + g
    p2 = p1 - lr * b2
    show("SGD momentum 0.9 (torch), step 1", p1)
    show("SGD momentum 0.9 (torch), step 2 same g", p2)
    # notes' form v = gamma v + eta g; theta -= v  (same numbers as torch form for constant lr)
    v1 = lr * g
    v2 = mu * v1 + lr * g
    show("notes' momentum form, step 2", p - v1 - v2)
    # RMSProp torch defaults alpha=0.99 eps=1e-8 (eps outside sqrt)
    sq = 0.01 * g ** 2
    show("RMSprop (alpha .99, eps 1e-8), step 1", p - lr * g / (np.sqrt(sq) + 1e-8))
    # Adam torch defaults
    b1_, b2_, eps = 0.9, 0.999, 1e-8
    m = (1 - b1_) * g
    v = (1 - b2_) * g ** 2
    mh, vh = m / (1 - b1_), v / (1 - b2_)
    pa1 = p - lr * mh / (np.sqrt(vh) + eps)
    show("Adam (torch defaults), step 1", pa1)
    m = b1_ * m + (1 - b1_) * g
    v = b2_ * v + (1 - b2_) * g ** 2
    mh, vh = m / (1 - b1_ ** 2), v / (1 - b2_ ** 2)
    show("Adam step 2 same g", pa1 - lr * mh / (np.sqrt(vh) + eps))
    # Adam with the notes' (Ng's) eps inside the sqrt
    m = (1 - b1_) * g
    v = (1 - b2_) * g ** 2
    show("Adam step 1, eps inside sqrt (notes' formula)",
         p - lr * (m / (1 - b1_)) / np.sqrt(v / (1 - b2_) + eps))


def main(argv):
    pat = argv[1] if len(argv) > 1 else ""
    for fn in EXAMPLES:
        ident = fn.__name__.replace("_", "-")
        # ids in the markdown: N004-backprop-222 etc.
        if pat and pat not in ident:
            continue
        print(ident)
        fn()
        print()


if __name__ == "__main__":
    main(sys.argv)
