"""Magnitude pruning with tensorflow-model-optimization, fine-tuned on the run's own training faces."""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from dataclasses import dataclass

import numpy as np
import tensorflow_model_optimization as tfmot
import tf_keras as keras


@dataclass(frozen=True)
class PruneResult:
    model: keras.Model
    sparsity: dict[str, float]  # kernel sparsity per pruned layer
    steps: int


def clone(model: keras.Model) -> keras.Model:
    """prune_low_magnitude wraps the very layers it is given; a clone keeps the float model intact."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def kernel_sparsity(model: keras.Model) -> dict[str, float]:
    out = {}
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            w = kernel.numpy()
            out[layer.name] = float((w == 0).mean())
    return out


def prune(model: keras.Model, train_ds, steps_per_epoch: int, epochs: int, target: float,
          lr: float = 1e-4, verbose: int = 1, loss: keras.losses.Loss | None = None) -> PruneResult:
    """Ramp sparsity 0 -> target over the first 70% of fine-tuning, then let the model recover.

    tfmot's default frequency=100 would never fire on a short run of a few hundred steps, so the mask is
    updated about twenty times over the ramp instead. The learning rate decays to zero like the training
    run's cosine tail, and `loss` should be the run's own (label smoothing included): a converged model
    fine-tuned on a different objective drifts before it recovers.
    """
    total = max(1, epochs * steps_per_epoch)
    end = max(1, int(0.7 * total))
    schedule = tfmot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target, begin_step=0,
                                                    end_step=end, frequency=max(1, end // 20))
    wrapped = tfmot.sparsity.keras.prune_low_magnitude(clone(model), pruning_schedule=schedule)
    schedule_lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=total)
    wrapped.compile(keras.optimizers.Adam(schedule_lr), loss or keras.losses.CategoricalCrossentropy(),
                    metrics=["accuracy"])
    wrapped.fit(train_ds, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=verbose,
                callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    stripped = tfmot.sparsity.keras.strip_pruning(wrapped)
    return PruneResult(stripped, kernel_sparsity(stripped), total)


def overall_sparsity(sparsity: dict[str, float], model: keras.Model) -> float:
    sizes = {layer.name: int(np.prod(layer.kernel.shape)) for layer in model.layers if hasattr(layer, "kernel")}
    total = sum(sizes[name] for name in sparsity)
    return sum(sparsity[name] * sizes[name] for name in sparsity) / max(1, total)
