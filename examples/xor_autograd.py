"""XOR with nothing but tensors and autograd: the problem a single neuron cannot solve.

A 2-4-1 network (tanh hidden layer, sigmoid output) learns XOR by gradient descent on
binary cross-entropy. Run it and watch the loss fall and the four predictions settle.
"""

import soma

soma.manual_seed(0)
X = soma.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = soma.tensor([[0.0], [1.0], [1.0], [0.0]])

W1 = (soma.randn(2, 4) * 0.5).requires_grad_()
b1 = soma.zeros(4, requires_grad=True)
W2 = (soma.randn(4, 1) * 0.5).requires_grad_()
b2 = soma.zeros(1, requires_grad=True)
lr = 1.0

for epoch in range(1, 2001):
    hidden = (X @ W1 + b1).tanh()
    p = (hidden @ W2 + b2).sigmoid()
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()   # binary cross-entropy
    for param in (W1, b1, W2, b2):
        param.grad = None
    loss.backward()
    with soma.no_grad():
        for param in (W1, b1, W2, b2):
            param -= lr * param.grad                            # w <- w - lr * dE/dw
    if epoch in (1, 10, 100, 500, 1000, 2000):
        print(f"epoch {epoch:5d}  loss {loss.item():.6f}")

print("inputs -> prediction")
for inputs, prediction in zip(X.tolist(), p.detach().tolist()):
    print(f"  {inputs} -> {prediction[0]:.4f}")
