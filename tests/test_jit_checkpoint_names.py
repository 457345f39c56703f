"""soma.jit and soma.utils.checkpoint: PyTorch's names run the eager code, with PyTorch's numbers."""

import numpy as np
import pytest
import torch
import torch.utils.checkpoint

import soma
import soma.nn as nn
import soma.utils.checkpoint


def test_jit_gives_back_what_it_is_handed_and_takes_the_eager_branch():
    layer = nn.Linear(2, 2)
    assert soma.jit.script(layer) is layer and soma.jit.trace(layer, soma.ones(1, 2)) is layer

    @soma.jit.ignore
    def helper(x):
        return x + 1

    @soma.jit.ignore(drop=True)
    def other(x):
        return x

    assert helper(1) == 2 and other(3) == 3 and not soma.jit.is_scripting() and not soma.jit.is_tracing()
    assert soma.jit.annotate(list, []) == []
    with pytest.raises(RuntimeError, match="soma.onnx.export"):
        soma.jit.save(layer, "model.pt")


def test_checkpoint_gives_pytorchs_outputs_and_gradients():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ours, theirs = nn.Sequential(nn.Linear(4, 5), nn.Tanh()), torch.nn.Sequential(torch.nn.Linear(4, 5),
                                                                                    torch.nn.Tanh())
    ours.load_state_dict({k: soma.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    a, b = soma.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_ours = soma.utils.checkpoint.checkpoint(ours, a, use_reentrant=False)
    out_theirs = torch.utils.checkpoint.checkpoint(theirs, b, use_reentrant=False)
    out_ours.pow(2).sum().backward(), out_theirs.pow(2).sum().backward()
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours[0].weight.grad.numpy(), theirs[0].weight.grad.numpy(), rtol=1e-5, atol=1e-7)
    chained = soma.utils.checkpoint.checkpoint_sequential(ours, 2, soma.tensor(x))
    np.testing.assert_allclose(chained.detach().numpy(), out_ours.detach().numpy())
