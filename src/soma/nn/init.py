"""nn.init: PyTorch's initializers (issue 3)."""
