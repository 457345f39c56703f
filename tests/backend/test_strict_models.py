"""A small CNN and an LSTM train on the strict backend with the CPU's exact numbers."""

import numpy as np
import pytest

import soma
from soma import nn


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Upsample(scale_factor=2), nn.Conv2d(4, 6, 3), nn.GroupNorm(2, 6), nn.Tanh(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(54, 3))


class _Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 5)
        self.lstm = nn.LSTM(5, 7, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(14, 4, batch_first=True)
        self.head = nn.Linear(4, 3)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        out, _ = self.gru(out)
        return self.head(out[:, -1])


class _PackedTagger(nn.Module):
    """Variable-length sequences: the LSTM reads a packed batch, its lengths on the device."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 5)
        self.lstm = nn.LSTM(5, 7, batch_first=True)
        self.head = nn.Linear(7, 3)

    def forward(self, tokens):
        lengths = [6, 4, 3, 1][: tokens.shape[0]]
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths, batch_first=True)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1])


def _train(build, x, y, device, optimizer):
    soma.manual_seed(0)
    model = build().to(device)
    opt = optimizer(model.parameters())
    x, y = soma.tensor(x, device=device), soma.tensor(y, device=device)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer", [lambda p: soma.optim.SGD(p, lr=0.1, momentum=0.9),
                                       lambda p: soma.optim.Adam(p, lr=0.01)], ids=["sgd momentum", "adam"])
@pytest.mark.parametrize("model", ["cnn", "lstm", "packed lstm"])
def test_training_on_the_strict_backend_matches_the_cpu(strict_device, model, optimizer):
    rng = np.random.default_rng(0)
    if model == "cnn":
        build, x = _cnn, rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    else:
        build, x = (_Tagger if model == "lstm" else _PackedTagger), rng.integers(0, 10, (4, 6))
    y = rng.integers(0, 3, 4)
    cpu_losses, cpu_params = _train(build, x, y, "cpu", optimizer)
    dev_losses, dev_params = _train(build, x, y, strict_device, optimizer)
    assert dev_losses == cpu_losses
    for c, d in zip(cpu_params, dev_params):
        np.testing.assert_array_equal(d, c)


@pytest.mark.parametrize("build", [lambda d: nn.Linear(3, 4, device=d), lambda d: nn.Conv2d(1, 2, 3, device=d),
                                   lambda d: nn.LSTM(3, 4, device=d), lambda d: nn.BatchNorm1d(3, device=d),
                                   lambda d: nn.Embedding(5, 2, None, None, 2.0, False, False, None, False, d)],
                         ids=["Linear", "Conv2d", "LSTM", "BatchNorm1d", "Embedding positional"])
def test_device_at_construction_places_parameters_and_buffers(strict_device, build):
    layer = build(strict_device)
    tensors = [*layer.parameters(), *layer.buffers()]
    assert tensors and all(t.device == soma.device(strict_device, 0) for t in tensors)


def test_in_place_random_fills_on_the_device_draw_the_cpus_numbers(strict_device):
    cpu, dev = soma.empty(3, 4), soma.empty(3, 4, device=strict_device)
    for fill in (lambda t: t.uniform_(-2, 3), lambda t: t.normal_(1.0, 0.5)):
        soma.manual_seed(7)
        fill(cpu)
        soma.manual_seed(7)
        fill(dev)
        assert dev.device == soma.device(strict_device, 0)
        np.testing.assert_array_equal(dev.cpu().numpy(), cpu.numpy())
