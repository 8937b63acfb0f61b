"""Train a small neural network on scikit-learn's digits; report validation accuracy each epoch.

This is training code written for Vertex AI, unchanged for tuneyard: hyperparameters arrive as
``--name=value`` flags, the metric goes out through ``cloudml-hypertune``, and the model is saved
into ``AIP_MODEL_DIR``. The data set ships inside scikit-learn, so nothing is downloaded.

Run one trial by hand, from ``examples/trainer``::

    AIP_MODEL_DIR=/tmp/digits-model CLOUD_ML_HP_METRIC_FILE=/tmp/digits.metrics \\
        python -m trainer.task --epochs=10 --learning_rate=0.003 --hidden_units=64 \\
        --activation=relu --batch_size=32
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import hypertune
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

SEED = 0
"""Fixed, so a trial's result depends on its flags alone."""

ACTIVATIONS = ("relu", "tanh", "logistic")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The flags; an unknown flag or a malformed value exits with status 2, as on Vertex."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training data")
    parser.add_argument(
        "--learning_rate", type=float, default=0.001, help="Adam's step size (DOUBLE, log scale)"
    )
    parser.add_argument(
        "--hidden_units", type=int, default=64, help="width of the hidden layer (INTEGER)"
    )
    parser.add_argument(
        "--activation", choices=ACTIVATIONS, default="relu", help="hidden activation (CATEGORICAL)"
    )
    # Google's samples read DISCRETE hyperparameters with type=int; tuneyard, like Vertex in
    # practice, passes whole-number values without a decimal point.
    parser.add_argument("--batch_size", type=int, default=32, help="minibatch size (DISCRETE)")
    args = parser.parse_args(argv)
    for name in ("epochs", "learning_rate", "hidden_units", "batch_size"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive, got {getattr(args, name)}")
    return args


def model_dir() -> Path:
    """``AIP_MODEL_DIR`` as a local folder (``gs://`` read through Vertex's ``/gcs`` mount)."""
    location = os.environ.get("AIP_MODEL_DIR", "model")
    if location.startswith("gs://"):
        location = "/gcs/" + location.removeprefix("gs://")
    path = Path(location)
    path.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Train for ``--epochs`` epochs, reporting ``accuracy`` after each; save the model."""
    args = parse_args(argv)
    started = time.monotonic()
    digits = load_digits()
    features = digits.data / 16.0  # pixel intensities are 0..16
    x_train, x_val, y_train, y_val = train_test_split(
        features, digits.target, test_size=0.25, random_state=SEED, stratify=digits.target
    )
    model = MLPClassifier(
        hidden_layer_sizes=(args.hidden_units,),
        activation=args.activation,
        solver="adam",
        learning_rate_init=args.learning_rate,
        batch_size=args.batch_size,
        random_state=SEED,
    )
    classes = np.unique(y_train)
    reporter = hypertune.HyperTune()
    for epoch in range(1, args.epochs + 1):
        model.partial_fit(x_train, y_train, classes=classes)
        accuracy = float(model.score(x_val, y_val))
        reporter.report_hyperparameter_tuning_metric(
            hyperparameter_metric_tag="accuracy", metric_value=accuracy, global_step=epoch
        )
        print(f"epoch {epoch}/{args.epochs}: validation accuracy {accuracy:.4f}", flush=True)
    path = model_dir() / "model.pkl"
    with open(path, "wb") as out:
        pickle.dump(model, out)
    print(f"saved {path} after {time.monotonic() - started:.2f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
