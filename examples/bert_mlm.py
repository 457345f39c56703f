"""BERT-style pretraining (masked language model) on a tiny corpus, then fine-tuning on a toy task.

The corpus: short sentences from a small grammar ("the dog is kind and happy", "a cruel
fox and a dark owl") in which every adjective of a sentence has the same sentiment.
Nobody labels them; the model learns by filling in blanks:

    pretraining:  [CLS] the dog is [MASK] and happy   → predict "kind"
                  (15% of the words chosen; of those 80% become [MASK], 10% a random word, 10% stay)

To fill a blank well the encoder must learn that "kind" goes with "happy" and "cruel" with
"dark": which adjectives belong together.

The toy task: is a sentence positive or negative? Only 16 labeled sentences, and they use
just four adjectives (good, happy / bad, sad); the test sentences use only the other twelve.
A model trained from scratch on the 16 sentences has never seen a test adjective with a
label; the pretrained one knows from the corpus which side each adjective is on.

    model: [CLS] + words → Embedding + learned positions → 2 × TransformerEncoderLayer → heads
           MLM head: Linear(d, vocabulary) at every position;  classifier: Linear(d, 2) on [CLS]

Run: python examples/bert_mlm.py   (under a minute on 2 cores)
"""

import numpy as np

import soma
import soma.nn.functional as F
import soma.optim
from soma import nn

try:  # small matrices: one BLAS thread is faster, and steadier on a busy machine
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

POSITIVE = ["good", "happy", "kind", "great", "lovely", "bright", "calm", "warm"]
NEGATIVE = ["bad", "sad", "cruel", "awful", "ugly", "dark", "angry", "cold"]
LABELED = {"good", "happy", "bad", "sad"}  # the only adjectives the fine-tuning set uses
NOUNS = ["dog", "cat", "fox", "owl", "horse", "child", "house", "song"]
TEMPLATES = ["the {n} is {a} and {a}", "a {a} {n} and a {a} {n}", "the {a} {n} was very {a}",
             "my {n} is {a} , {a} and {a}"]
SPECIAL = ["[PAD]", "[CLS]", "[MASK]"]
WORDS = SPECIAL + sorted(set(POSITIVE + NEGATIVE + NOUNS + " ".join(TEMPLATES).replace("{n}", "").replace(
    "{a}", "").split()))
INDEX = {w: i for i, w in enumerate(WORDS)}
PAD, CLS, MASK = 0, 1, 2
VOCAB, LENGTH, D_MODEL = len(WORDS), 10, 32


def sentence(rng, adjectives):
    template = TEMPLATES[rng.integers(len(TEMPLATES))]
    words = []
    for part in template.split():
        if part == "{a}":
            words.append(adjectives[rng.integers(len(adjectives))])
        elif part == "{n}":
            words.append(NOUNS[rng.integers(len(NOUNS))])
        else:
            words.append(part)
    ids = [CLS] + [INDEX[w] for w in words]
    return ids + [PAD] * (LENGTH - len(ids))


def corpus(rng, n, adjective_sets):
    """n sentences; each picks a sentiment (0 positive, 1 negative) and draws its adjectives from that set."""
    labels = rng.integers(0, 2, n)
    return np.array([sentence(rng, adjective_sets[label]) for label in labels]), labels


class TinyBERT(nn.Module):
    def __init__(self, vocab=VOCAB, d_model=D_MODEL, layers=2, heads=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.position = nn.Parameter(0.02 * soma.randn(1, LENGTH, d_model))
        layer = nn.TransformerEncoderLayer(d_model, heads, 2 * d_model, dropout=0.1, activation="gelu",
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.mlm_head = nn.Linear(d_model, vocab)
        self.classifier = nn.Linear(d_model, 2)

    def encode(self, tokens):
        return self.encoder(self.embedding(tokens) + self.position, src_key_padding_mask=tokens == PAD)


def mask_tokens(tokens, rng):
    """BERT's corruption: choose 15% of the real words; 80% → [MASK], 10% → a random word, 10% unchanged."""
    chosen = (rng.random(tokens.shape) < 0.15) & (tokens > MASK)
    roll = rng.random(tokens.shape)
    corrupted = tokens.copy()
    corrupted[chosen & (roll < 0.8)] = MASK
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    corrupted[swap] = rng.integers(len(SPECIAL), len(WORDS), swap.sum())
    targets = np.where(chosen, tokens, -100)  # -100: no loss (cross_entropy's ignore_index)
    return corrupted, targets


def pretrain(model, sentences, rng, steps=400, batch=64):
    optimizer = soma.optim.AdamW(model.parameters(), lr=2e-3)
    for step in range(1, steps + 1):
        rows = sentences[rng.integers(0, len(sentences), batch)]
        corrupted, targets = mask_tokens(rows, rng)
        logits = model.mlm_head(model.encode(soma.tensor(corrupted)))
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), soma.tensor(targets.reshape(-1)), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"   MLM step {step}: loss {loss.item():.3f}")


def fine_tune(model, x, y, steps=150, lr=1e-3):
    optimizer = soma.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(model.classifier(model.encode(soma.tensor(x))[:, 0]), soma.tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def accuracy(model, x, y):
    model.eval()
    with soma.no_grad():
        predicted = model.classifier(model.encode(soma.tensor(x))[:, 0]).argmax(-1).numpy()
    model.train()
    return float((predicted == y).mean())


def fill_in(model, text):
    ids = [CLS] + [INDEX.get(w, MASK) for w in text.split()]
    ids += [PAD] * (LENGTH - len(ids))
    model.eval()
    with soma.no_grad():
        logits = model.mlm_head(model.encode(soma.tensor(np.array([ids]))))[0].numpy()
    model.train()
    where = ids.index(MASK)
    best = np.argsort(-logits[where])[:3]
    return ", ".join(WORDS[i] for i in best)


def main():
    rng = np.random.default_rng(0)
    unlabeled, _ = corpus(rng, 2000, [POSITIVE, NEGATIVE])
    seen = [[a for a in POSITIVE if a in LABELED], [a for a in NEGATIVE if a in LABELED]]
    unseen = [[a for a in POSITIVE if a not in LABELED], [a for a in NEGATIVE if a not in LABELED]]
    x_train, y_train = corpus(rng, 16, seen)
    x_test, y_test = corpus(rng, 400, unseen)
    print(f"vocabulary {len(WORDS)} words; {len(unlabeled)} unlabeled sentences; {len(x_train)} labeled "
          f"sentences using only {sorted(LABELED)}; {len(x_test)} test sentences using the other 12 adjectives")

    results = {}
    for name in ("from scratch", "pretrained"):
        soma.manual_seed(1)
        model = TinyBERT()
        if name == "pretrained":
            print("\npretraining (masked language model):")
            pretrain(model, unlabeled, np.random.default_rng(1))
            print(f"   [CLS] the dog is [MASK] and lovely  → {fill_in(model, 'the dog is [MASK] and lovely')}")
            print(f"   [CLS] the fox is [MASK] and angry   → {fill_in(model, 'the fox is [MASK] and angry')}")
        loss = fine_tune(model, x_train, y_train)
        results[name] = accuracy(model, x_test, y_test)
        print(f"\n{name}: fine-tuned on the 16 labeled sentences (final loss {loss:.3f}), "
              f"test accuracy {results[name]:.3f}")
    print(f"\ntest accuracy on unseen adjectives: from scratch {results['from scratch']:.3f}, "
          f"pretrained {results['pretrained']:.3f}")


if __name__ == "__main__":
    main()
