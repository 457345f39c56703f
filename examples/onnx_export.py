"""Train DigitsCNN on the bundled 8×8 digits, export it to ONNX, and run the file in onnxruntime.

    python examples/onnx_export.py [model.onnx]

The exported file needs neither soma nor Python to run: any ONNX runtime (onnxruntime in
C++, C#, Java or JavaScript, TensorRT, OpenVINO, ...) gives the same predictions. The
script prints soma's test accuracy, onnxruntime's, and the largest difference between
their logits (about 1e-6 in float32). Needs ``pip install "soma[onnx]"``.
"""

import os
import sys
import tempfile

import numpy as np
import onnxruntime

import soma
import soma.onnx
from soma import nn, optim
from soma.datasets import digits
from soma.models import DigitsCNN
from soma.utils.data import DataLoader, TensorDataset


def train(model, x_train, y_train, epochs=6):
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(soma.tensor(x_train), soma.tensor(y_train)), batch_size=32, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        print(f"epoch {epoch + 1}: loss {total / len(y_train):.4f}")


def main(path=None, seed=0):
    soma.manual_seed(seed)
    (x_train, y_train), (x_test, y_test) = digits(images=True)
    model = DigitsCNN()
    train(model, x_train, y_train)

    path = path or os.path.join(tempfile.mkdtemp(), "digits_cnn.onnx")
    soma.onnx.export(model, soma.tensor(x_test[:1]), path, input_names=["image"], output_names=["logits"])
    print(f"wrote {path} ({os.path.getsize(path) / 1024:.0f} KiB)")

    model.eval()
    with soma.no_grad():
        soma_logits = model(soma.tensor(x_test)).numpy()
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (onnx_logits,) = session.run(["logits"], {"image": x_test.astype(np.float32)})  # the whole test set at once

    print(f"soma test accuracy:        {(soma_logits.argmax(1) == y_test).mean():.4f}")
    print(f"onnxruntime test accuracy: {(onnx_logits.argmax(1) == y_test).mean():.4f}")
    print(f"max |logit difference|:    {np.abs(onnx_logits - soma_logits).max():.2e}")
    return soma_logits, onnx_logits


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
