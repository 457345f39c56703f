"""A small Vision Transformer (ViT) on the bundled 8×8 digits.

The image is cut into 16 patches of 2×2 pixels; each patch becomes a token:

    tokens = Conv2d(1, d, kernel 2, stride 2)(image)          (16 patch embeddings)
    h⁰ = [cls; tokens] + E_pos                                (a learned class token, learned positions)
    hˡ = TransformerEncoderLayer(hˡ⁻¹)    for l = 1, 2      (pre-norm, GELU, 4 heads)
    logits = Linear(LayerNorm(h²[cls]))

The class token attends to every patch; its final vector is all the classifier sees.

Run: python examples/vit_digits.py   (well under a minute on 2 cores)
"""

import time

import numpy as np

import soma
import soma.nn.functional as F
import soma.optim
from soma import datasets, nn

try:  # small matrices: one BLAS thread is faster, and steadier on a busy machine
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

PATCH, D_MODEL, HEADS, LAYERS, EPOCHS, BATCH = 2, 48, 4, 2, 25, 64


class ViT(nn.Module):
    def __init__(self, image=8, patch=PATCH, d_model=D_MODEL, heads=HEADS, layers=LAYERS, classes=10):
        super().__init__()
        tokens = (image // patch) ** 2
        self.patch_embed = nn.Conv2d(1, d_model, patch, stride=patch)
        self.cls_token = nn.Parameter(soma.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(0.02 * soma.randn(1, tokens + 1, d_model))
        layer = nn.TransformerEncoderLayer(d_model, heads, 2 * d_model, dropout=0.1, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, classes)

    def forward(self, images):
        patches = self.patch_embed(images).flatten(2).transpose(1, 2)  # (N, 16, d)
        cls = self.cls_token.expand(images.shape[0], 1, self.cls_token.shape[-1])
        h = self.encoder(soma.cat([cls, patches], dim=1) + self.pos_embed)
        return self.head(self.norm(h[:, 0]))


def accuracy(model, X, y):
    model.eval()
    with soma.no_grad():
        hits = (model(soma.tensor(X)).argmax(-1).numpy() == y).mean()
    model.train()
    return float(hits)


def main():
    soma.manual_seed(0)
    (X, y), (X_test, y_test) = datasets.digits(images=True)
    model = ViT()
    print(f"{len(X)} training and {len(X_test)} test images; "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")
    optimizer = soma.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    steps = EPOCHS * -(-len(X) // BATCH)
    scheduler = soma.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        order = rng.permutation(len(X))
        for i in range(0, len(X), BATCH):
            idx = order[i:i + BATCH]
            loss = F.cross_entropy(model(soma.tensor(X[idx])), soma.tensor(y[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        if epoch % 5 == 0:
            print(f"epoch {epoch:3d}  loss {loss.item():.3f}  train accuracy {accuracy(model, X, y):.4f}  "
                  f"test accuracy {accuracy(model, X_test, y_test):.4f}  ({time.perf_counter() - start:.0f} s)")
    print(f"test accuracy: {accuracy(model, X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
