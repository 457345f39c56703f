"""Train a small CNN on the bundled 8x8 digits with soma's training loop.

What it shows, in the order you would meet it:

1. data: ``soma.datasets.digits`` -> ``TensorDataset`` -> ``DataLoader``
   (1,437 training images at batch 64 = 23 iterations an epoch);
2. the model and its ``summary`` (layers, output shapes, parameters, MACs);
3. ``Trainer.fit`` with a validation split, early stopping and checkpoints;
4. test accuracy, learning curves, the confusion matrix, the first conv filters;
5. resuming from the checkpoint file.

Run:  python examples/train_digits.py [--epochs 15] [--out runs/digits]
"""

import argparse
from pathlib import Path

import soma
from soma import datasets, nn, optim
from soma.models import DigitsCNN
from soma.train import (
    EarlyStopping,
    ModelCheckpoint,
    Trainer,
    accuracy,
    confusion_matrix,
    plots,
    summary,
)
from soma.utils.data import DataLoader, TensorDataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--out", default="runs/digits")
    args = parser.parse_args()
    out = Path(args.out)
    soma.manual_seed(0)

    # 1. data: the loaders return NumPy arrays; a TensorDataset pairs images and labels
    split = datasets.digits(images=True)
    (X_train, y_train), (X_test, y_test) = split
    train = TensorDataset(X_train, y_train)
    n_val = len(train) // 10
    train, val = soma.utils.data.random_split(train, [len(train) - n_val, n_val])
    train_loader = DataLoader(train, batch_size=64, shuffle=True)
    val_loader = DataLoader(val, batch_size=256)
    print(f"{len(train)} training samples at batch 64 = {len(train_loader)} iterations an epoch")

    # 2. the model
    model = DigitsCNN()
    summary(model, (1, 8, 8))

    # 3. training, keeping the best epoch's checkpoint
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        metrics=[accuracy],
        callbacks=[
            EarlyStopping(monitor="val_accuracy", patience=5, restore_best_weights=True),
            ModelCheckpoint(out / "best.safetensors", monitor="val_loss", save_best_only=True),
        ],
    )
    history = trainer.fit(train_loader, epochs=args.epochs, validation_data=val_loader)

    # 4. how good is it, and what did it learn?
    scores = trainer.predict(X_test).numpy()
    print(f"test accuracy: {accuracy(y_test, scores):.4f}")
    print("curves:", plots.plot_history(history, out / "history.png"))
    matrix = confusion_matrix(y_test, scores, num_classes=10)
    print(
        "confusion matrix:",
        plots.plot_confusion_matrix(matrix, out / "confusion.png", split.classes),
    )
    filters = model.features[0].weight.detach()  # (16, 1, 3, 3)
    print(
        "first-layer filters:",
        plots.plot_images(filters, out / "filters.png", title="conv1 filters"),
    )

    # 5. resume: a fresh model and optimizer pick up exactly where the checkpoint left off
    fresh = DigitsCNN()
    resumed = Trainer(
        fresh,
        nn.CrossEntropyLoss(),
        optim.Adam(fresh.parameters(), lr=3e-3),
        metrics=[accuracy],
        verbose=0,
    )
    epoch = resumed.load_checkpoint(out / "best.safetensors")
    print(
        f"resumed from epoch {epoch}: "
        f"test accuracy {resumed.evaluate(X_test, y_test)['accuracy']:.4f}"
    )


if __name__ == "__main__":
    main()
