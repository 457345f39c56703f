"""The short examples of the notes: activations, losses, penalties, an optimizer step, data
batches, dropout, the vanishing-gradient product and the tanh RNN, each computed by soma.

Each number comes from the soma object the notes are describing: ``nn.Step`` for the
step function, autograd for σ′, ``F.binary_cross_entropy``/``F.mse_loss`` for the losses,
``nn.l1_penalty``/``nn.l2_penalty``, ``optim.Adagrad``, a ``DataLoader``'s length,
``nn.Dropout``, ``nn.RNN`` with the notes' weights. Where the notes' arithmetic is
wrong the report says so in its last section, "The notes".
"""

import numpy as np

import soma
import soma.nn.functional as F
from soma import classic, nn, optim
from soma.explain.examples_common import F64, Example, count, dense, legend, notes, verdict
from soma.explain.report import Report
from soma.explain.step import forward
from soma.utils.data import DataLoader, TensorDataset

__all__ = ["EXAMPLES_BASICS"]


def _tensor(values, requires_grad=False):
    return soma.tensor(np.asarray(values, dtype=F64), requires_grad=requires_grad)


# ------------------------------------------------------------------ activations
def step_function(digits):
    z = _tensor([5.0, -2.0, 0.0])
    y = nn.Step()(z)._array
    report = Report("Notes 001: the step function with threshold 0 (nn.Step)", digits)
    section = report.section("f(z) = 1 if z ≥ 0 else 0")
    for value, out in zip(z._array, y, strict=True):
        report.equation(section, f"f({value:g})", out, formula=f"1 if {value:g} ≥ 0 else 0")
    return verdict(report, "The notes' Z = 5 → 1 and Z = −2 → 0 are right; at Z = 0 this step gives 1.")


def sigmoid_derivative_max(digits):
    """σ′ by autograd on a grid of z: ``σ(z).sum().backward()`` leaves σ′(zᵢ) in ``z.grad``."""
    z = soma.linspace(-6.0, 6.0, 121, dtype=F64).requires_grad_()
    soma.sigmoid(z).sum().backward()
    slope = z.grad._array
    top = int(np.argmax(slope))
    report = Report("Notes 001: the range of σ′(z) = σ(z)(1 − σ(z)), by autograd", digits)
    section = report.section("σ′ on 121 points from −6 to 6 (z.grad after σ(z).sum().backward())")
    report.equation(section, "max σ′", slope[top], formula="σ′(z) at its peak")
    report.equation(section, "argmax z", z._array[top], formula="where σ(z) = ½")
    s = float(soma.sigmoid(_tensor(0.0))._array)
    report.equation(
        section, "σ′(0)", s * (1 - s), formula="σ(0)(1 − σ(0))", numbers="{} × (1 − {})", numbers_values=(s, s)
    )
    report.equation(section, "min σ′", slope.min(), formula="at z = ±6, tending to 0")
    return verdict(report, "The notes' 0 ≤ σ′ ≤ 0.25 is right: the maximum 0.25 is at z = 0.")


def two_layer_forward(digits):
    model = dense(([[0.01, 0.02, 0.03]], [0.01], nn.Sigmoid), ([[0.02]], [0.03], nn.Sigmoid))
    title = "Notes 001: x = (95, 4, 4) through two sigmoid neurons"
    report = forward(model, [95.0, 4.0, 4.0], digits=digits, title=title)
    y_hat = _tensor(report.values["out_o1"])
    loss = report.section("Loss, target y = 1")
    report.equation(loss, "y − ŷ", float((1.0 - y_hat)._array), numbers="1 − {}", numbers_values=(y_hat.item(),))
    squared = F.mse_loss(y_hat, _tensor(1.0)).item()
    report.equation(loss, "(y − ŷ)²", squared, formula="F.mse_loss(ŷ, y)")
    legend(report, "The notes' z is net_h1, a is out_h1 and y (ŷ) is out_o1; their second weight 0.02 is w4.")
    return verdict(
        report,
        "The notes are wrong four times: z = 0.95 + 0.08 + 0.12 + 0.01 = 1.16, not 1.151; "
        "a = σ(1.16) = 0.761333, not 0.759; their formula 1/(1 + e^(−0.759+0.03)) drops the "
        "weight 0.02, and ŷ = σ(0.02 × 0.761333 + 0.03) = 0.511305, not 0.5429; and "
        "1 − 0.5429 would be 0.4571, not 0.459.",
    )


def logreg(digits):
    model = dense(([[0.01, 0.02, 0.03]], [0.05], nn.Sigmoid))
    title = "Notes 002: logistic regression, p = σ(a·x + b)"
    report = forward(model, [1.0, 2.0, 3.0], digits=digits, title=title)
    legend(report, "The notes' coefficients a1, a2, a3 are w1, w2, w3; z is net_o1 and p is out_o1.")
    return verdict(report, "The notes' z = 0.19 and p = 0.5474 are right; p ≥ 0.5, so the class is 1.")


# ----------------------------------------------------------------------- losses
def bce(digits):
    report = Report("Notes 002: binary cross-entropy, −[y ln P + (1 − y) ln(1 − P)]", digits)
    section = report.section("F.binary_cross_entropy, one sample at a time")
    for case, (p, y) in enumerate([(0.8, 1.0), (0.3, 0.0)], start=1):
        loss = F.binary_cross_entropy(_tensor([p]), _tensor([y])).item()
        report.equation(
            section,
            f"L{case}",
            loss,
            formula="−[y ln P + (1 − y) ln(1 − P)]",
            numbers="−[{} × ln {} + {} × ln {}]",
            numbers_values=(y, p, 1 - y, 1 - p),
        )
    mean = F.binary_cross_entropy(_tensor([0.8, 0.3]), _tensor([1.0, 0.0])).item()
    report.equation(section, "mean", mean, formula="(L1 + L2)/2, reduction='mean'")
    return verdict(report, "The notes' 0.2231 (spam, P = 0.8) and 0.3567 (not spam, P = 0.3) are right.")


def mse(digits):
    y, y_hat = _tensor([3.0, -0.5, 2.0]), _tensor([2.5, 0.0, 2.0])
    squares = F.mse_loss(y_hat, y, reduction="none")._array
    report = Report("Notes 002: mean squared error of three predictions", digits)
    section = report.section("F.mse_loss(ŷ, y) = (1/n) Σ (y − ŷ)²")
    report.equation(section, "(y − ŷ)²", squares, formula="F.mse_loss(ŷ, y, reduction='none')")
    report.equation(
        section,
        "MSE",
        F.mse_loss(y_hat, y).item(),
        formula="Σ/3",
        numbers="({} + {} + {})/3",
        numbers_values=tuple(squares),
    )
    return verdict(report, "The notes' ≈ 0.167 is right (0.5/3).")


def classifier_vectors(digits):
    output = _tensor([0, 0.1, 0.1, 0.75, 0, 0, 0, 0, 0, 0.05])
    label = F.one_hot(soma.tensor(3), 10).to(F64)
    report = Report("Notes 003: a softmax output, the one-hot label of digit 3 and E = Σ ½(t − o)²", digits)
    section = report.section("The vectors")
    report.equation(section, "Σ output", output.sum().item())
    report.equation(section, "argmax", int(output.argmax().item()))
    report.equation(section, "label", label._array, formula="F.one_hot(3, 10)")
    loss = report.section("E = Σ ½(target − output)² = ½ · F.mse_loss(reduction='sum')")
    report.equation(loss, "E", 0.5 * F.mse_loss(output, label, reduction="sum").item())
    uniform = soma.full((10,), 0.1, dtype=F64)
    report.equation(loss, "E, uniform 0.1 output", 0.5 * F.mse_loss(uniform, label, reduction="sum").item())
    return verdict(report, "The notes' label [0 0 0 1 0 0 0 0 0] has 9 entries; with 10 classes it needs 10.")


# ------------------------------------------------- regularization and optimizers
def l1_l2(digits):
    report = Report("Notes 002: L1 and L2 penalties on w = (0.5, −0.3), λ = 0.1, loss 0.4", digits)
    for name, penalty, formula in [("L1", nn.l1_penalty, "λ·Σ|w|"), ("L2", nn.l2_penalty, "λ·Σw²")]:
        w = _tensor([0.5, -0.3], requires_grad=True)
        term = penalty(w, 0.1)
        term.backward()
        section = report.section(f"{name}: nn.{penalty.__name__}(w, 0.1)")
        report.equation(section, f"{name} penalty", term.item(), formula=formula)
        report.equation(section, f"{name} total", 0.4 + term.item(), formula=f"0.4 + {formula}")
        report.equation(section, f"d{name}/dw", w.grad._array, formula="by autograd")
    return verdict(report, "The notes' 0.48 (L1) and 0.434 (L2) are right; neither penalty has a ½.")


def adagrad(digits):
    """One step of ``optim.Adagrad`` from a zero accumulator, with soma's ε and with ε = 0."""
    start, gradient = [0.5, -0.3, 0.1], [0.2, -0.4, 0.1]
    report = Report("Notes 002: one AdaGrad step, η = 0.1, θ = (w¹, w², b) = (0.5, −0.3, 0.1)", digits)
    section = report.section("G = g², θ' = θ − η·g/(√G + ε) (optim.Adagrad)")
    for label, eps in [("θ' (ε = 1e-10)", 1e-10), ("θ' (ε = 0)", 0.0)]:
        theta = _tensor(start, requires_grad=True)
        theta.grad = _tensor(gradient)
        optimizer = optim.Adagrad([theta], lr=0.1, eps=eps)
        optimizer.step()
        report.equation(section, label, theta._array.copy(), formula=f"optim.Adagrad(lr=0.1, eps={eps:g}).step()")
    report.values["G"] = optimizer.state[theta]["sum"].copy()
    report.equation(section, "G", report.values["G"], formula="g² (the first step from G = 0)")
    notes = report.section("The notes' form: ε = 1e-8 inside the root")
    g, accumulated = _tensor(gradient), _tensor(report.values["G"])
    rate = 0.1 / soma.sqrt(accumulated + 1e-8)
    report.equation(notes, "η/√(G + ε)", rate._array, formula="per-parameter rate")
    report.equation(notes, "θ' (notes)", (_tensor(start) - rate * g)._array, formula="θ − η/√(G + ε)·g")
    return verdict(
        report,
        "The notes' (0.4, −0.2) and b = 0.0 are right to the digits they show: they are the "
        "ε = 0 step; ε (inside or outside the root) moves the last digits only.",
    )


# ------------------------------------------------------------------------- data
def iterations(digits):
    loader = DataLoader(TensorDataset(soma.zeros(10_000, 1)), batch_size=200)
    report = Report("Notes 003: iterations per epoch, 10,000 images in batches of 200", digits)
    section = report.section("len(DataLoader(10,000 samples, batch_size=200))")
    count(report, section, "iterations per epoch", len(loader), "10,000 / 200")
    count(report, section, "samples per batch", len(next(iter(loader))[0]))
    return verdict(report, "50 is right, but the notes' '(10,000 divided by 50)' should divide by the batch size, 200.")


def dropout(digits):
    report = Report("Notes 003/004: dropout rates, nn.Dropout(p) on a vector of ones", digits)
    soma.manual_seed(0)
    ones = soma.ones(1000, dtype=F64)
    for p in (0.5, 0.2):
        layer = nn.Dropout(p)
        out = layer(ones)._array
        section = report.section(f"nn.Dropout({p}), training mode")
        report.equation(section, f"kept value, p = {p}", out.max(), formula="1/(1 − p)")
        report.equation(section, f"kept fraction, p = {p}", (out > 0).mean(), formula="≈ 1 − p on 1,000 units")
        report.equation(section, f"eval output, p = {p}", layer.eval()(ones)._array.max(), formula="x (identity)")
    return verdict(report, "The notes give only the rates (Dropout(0.5), 'typically 20 per cent'); no arithmetic.")


def gradient_products(digits):
    """d(d2·(d1·x))/dx by autograd is the product d1·d2, the chain rule through two layers."""
    report = Report("Notes 004: vanishing and exploding gradients as products of derivatives", digits)
    for name, d1, d2 in [("vanishing", 0.03, 0.05), ("exploding", 100.0, 500.0)]:
        x = _tensor(1.0, requires_grad=True)
        ((x * d1) * d2).backward()
        section = report.section(f"{name}: two layers with local derivatives {d1:g} and {d2:g}")
        report.equation(
            section, f"gradient, {name}", x.grad.item(), formula="d1 · d2", numbers="{} × {}", numbers_values=(d1, d2)
        )
    return verdict(
        report,
        "The products 0.0015 and 50,000 are right, but the slide headings are swapped: the "
        "50,000 example sits under 'Vanishing Gradients' and shows an exploding gradient.",
    )


def mp_neuron(digits):
    report = Report("Notes 004: McCulloch–Pitts neurons for AND (soma.classic.McCullochPitts)", digits)
    inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
    for theta in (1.5, classic.threshold_rule(n=2, w=1, p=0)):
        section = report.section(f"w1 = w2 = 1, θ = {theta:g}: y = 1 if x1 + x2 ≥ θ")
        outputs = classic.McCullochPitts([1, 1], threshold=theta).predict(inputs)
        for x, y in zip(inputs, outputs, strict=True):
            report.equation(
                section, f"y(θ = {theta:g}, x = ({x[0]}, {x[1]}))", int(y), formula=f"{x[0] + x[1]} ≥ {theta:g}"
            )
    report.values["θ rule"] = classic.threshold_rule(n=2, w=1, p=0)
    return verdict(
        report,
        "Both neurons compute AND. The rule is printed once as θ > nw − p; only θ ≥ nw − p = 2 "
        "agrees with the worked example (θ = 2 fires on (1, 1)).",
    )


# -------------------------------------------------------------------------- RNN
def rnn_tanh(digits):
    """``nn.RNN(1, 1)`` with W_x = W_h = 1 and zero biases, run on the sequence [1, 2, 3]."""
    rnn = nn.RNN(1, 1, dtype=F64)
    with soma.no_grad():
        for name, value in [("weight_ih_l0", 1.0), ("weight_hh_l0", 1.0), ("bias_ih_l0", 0.0), ("bias_hh_l0", 0.0)]:
            getattr(rnn, name)._array[...] = value
    xs = [1.0, 2.0, 3.0]
    hs = rnn(_tensor(xs).reshape(3, 1, 1))[0]._array.ravel()
    report = Report("Notes 004: a tanh RNN on the sequence [1, 2, 3], W_x = W_h = 1, b = 0, h_0 = 0", digits)
    section = report.section("h_t = tanh(W_x·x_t + W_h·h_{t−1} + b), from nn.RNN(1, 1)")
    w_x, w_h = rnn.weight_ih_l0.item(), rnn.weight_hh_l0.item()
    b = rnn.bias_ih_l0.item() + rnn.bias_hh_l0.item()
    previous = 0.0
    for t, (x, h) in enumerate(zip(xs, hs, strict=True), start=1):
        a = w_x * x + w_h * previous + b
        report.equation(
            section,
            f"a_{t}",
            a,
            formula=f"W_x·x_{t} + W_h·h_{t - 1} + b",
            numbers="{} × {} + {} × {} + {}",
            numbers_values=(w_x, x, w_h, previous, b),
        )
        report.equation(section, f"h_{t}", h, formula=f"tanh(a_{t})", numbers="tanh({})", numbers_values=(a,))
        previous = float(h)
    return verdict(report, "The notes' 0.761, 0.992, 0.999 are right to 3 digits.")


EXAMPLES_BASICS = [
    notes(1, "step-function", "the step function at Z = 5, −2, 0", step_function),
    notes(1, "sigmoid-derivative-max", "max σ′ = 0.25 at z = 0", sigmoid_derivative_max),
    notes(1, "two-layer-forward", "x = (95, 4, 4) through two sigmoid neurons", two_layer_forward),
    notes(2, "logreg", "logistic regression forward pass", logreg),
    notes(2, "bce", "binary cross-entropy of two samples", bce),
    notes(2, "mse", "MSE of three predictions", mse),
    notes(2, "l1-l2", "L1 and L2 penalties added to a loss", l1_l2),
    notes(2, "adagrad", "one AdaGrad step", adagrad),
    notes(3, "classifier-vectors", "softmax output and one-hot label", classifier_vectors),
    notes(3, "iterations", "iterations per epoch, 10,000 / 200", iterations),
    notes(4, "mp-neuron", "McCulloch–Pitts AND, θ = 1.5 and θ ≥ nw − p", mp_neuron),
    notes(4, "gradient-products", "vanishing/exploding gradient products", gradient_products),
    notes(4, "rnn-tanh", "tanh RNN on [1, 2, 3]", rnn_tanh),
    Example("dropout", "N004-dropout", "inverted dropout scales 2.0 and 1.25 (notes 003, 004)", dropout),
]
