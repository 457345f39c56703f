"""Export soma models to ONNX, the open file format that many runtimes execute.

ONNX (Open Neural Network Exchange) describes a network as a graph of standard
operators (``Conv``, ``Gemm``, ``Relu``, ``Softmax``, ...) whose weights are stored
in the file as named constant tensors ("initializers"). Each operator's meaning is
fixed by an *opset* version, so a file written for opset 17 gives the same numbers
in onnxruntime, TensorRT, OpenVINO, a browser (onnxruntime-web) or a phone,
none of which needs Python, NumPy or soma.

``export`` walks the model's module tree in the order its forward applies the
layers and writes one small group of ONNX nodes per layer (see
:mod:`soma.onnx.converters` for the table of layer → nodes); ``verify`` runs the
written file in onnxruntime and reports how far its output is from soma's.

Example::

    >>> import soma.onnx
    >>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    >>> proto = soma.onnx.export(model, soma.randn(1, 64), "mlp.onnx")  # also returns the ModelProto
    >>> soma.onnx.verify(model, soma.randn(8, 64), "mlp.onnx") < 1e-5
    True

Both need the optional ``onnx`` and ``onnxruntime`` packages: ``pip install "soma[onnx]"``.
"""

from soma.onnx.exporter import export, supported_modules, verify

__all__ = ["export", "verify", "supported_modules"]
