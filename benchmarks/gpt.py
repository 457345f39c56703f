"""A tiny GPT training step: 2 causal Transformer layers, d_model 64, 4 heads, sequence 64, batch 16.

Step = token + position embeddings, two pre-norm ``TransformerEncoderLayer``s under the causal
mask, LayerNorm, the vocabulary head, cross-entropy on the next characters, backward and an
AdamW step. Both frameworks run the same code (``lib`` is ``soma`` or ``torch``); PyTorch runs
its native attention and layer kernels (its inference fast path is off since gradients are on).
"""

import importlib

import numpy as np

from benchmarks.harness import Workload

VOCAB, D_MODEL, HEADS, LAYERS, SEQ, BATCH = 65, 64, 4, 2, 64, 16


def _data():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, VOCAB, (BATCH, SEQ + 1))
    return tokens[:, :-1], tokens[:, 1:]


def _step(lib_name):
    def build():
        lib = importlib.import_module(lib_name)
        importlib.import_module(f"{lib_name}.optim")
        nn = importlib.import_module(f"{lib_name}.nn")
        F = importlib.import_module(f"{lib_name}.nn.functional")
        lib.manual_seed(0)

        class GPT(nn.Module):
            def __init__(self):
                super().__init__()
                self.tokens = nn.Embedding(VOCAB, D_MODEL)
                self.positions = nn.Embedding(SEQ, D_MODEL)
                layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, 4 * D_MODEL, dropout=0.0, activation="gelu",
                                                   batch_first=True, norm_first=True)
                self.blocks = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
                self.norm = nn.LayerNorm(D_MODEL)
                self.head = nn.Linear(D_MODEL, VOCAB)

            def forward(self, x, mask, where):
                h = self.blocks(self.tokens(x) + self.positions(where), mask=mask, is_causal=True)
                return self.head(self.norm(h))

        model = GPT()
        optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3)
        x, y = (lib.from_numpy(a) for a in _data())
        where = lib.arange(SEQ)
        mask = nn.Transformer.generate_square_subsequent_mask(SEQ)

        def step():
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x, mask, where).reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            optimizer.step()

        return step

    return build


def workloads():
    shape = f"L={LAYERS} d={D_MODEL} h={HEADS} T={SEQ} B={BATCH}"
    # multiply-adds per token: q, k, v, o projections 4d², the 4d feed-forward 8d², scores and
    # their weighted sum 2·T·d (the full T×T, as both compute it), and the vocabulary head d·V
    macs = LAYERS * (12 * D_MODEL**2 + 2 * SEQ * D_MODEL) + D_MODEL * VOCAB
    flops = 2.0 * macs * SEQ * BATCH * 3  # forward, then input and weight gradients
    return [Workload(f"GPT train ({shape})", soma=_step("soma"), torch=_step("torch"), flops=flops)]
