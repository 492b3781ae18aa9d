"""Grades tutorials/exercises/ex07_han.py against pynncomp's Han et al. code.

The oracles: ``pynncomp.compress.kept_weight_std`` (σ_l), ``pynncomp.compress.han_prune``
(the threshold rule on a one-layer network) and the dropout rates
``pynncomp.methods.han`` sets after each pruning step of a small network.
"""
import grader
import numpy as np

from pynncomp import methods
from pynncomp.compress import han_prune, kept_weight_std, prune
from pynncomp.compress import rescaled_dropout as reference_rescaled_dropout
from pynncomp.methods import StepContext
from pynncomp.nn import Dense, Dropout, ReLU, Sequential
from pynncomp.train import Protocol

exercise = grader.load("ex07_han")


def one_layer(W, mask=None):
    """A network of one Dense layer holding ``W`` (float64), with ``mask`` installed (pruned entries zeroed)."""
    layer = Dense(W.shape[0], W.shape[1], seed=0, dtype=np.float64)
    layer.params["W"][...] = W
    if mask is not None:
        layer.set_mask("W", mask)
    return Sequential([layer])


def test_kept_sigma_is_the_population_std_of_the_kept_weights():
    rng = np.random.default_rng(7)
    for case in range(4):
        W = rng.standard_normal((6 + case, 4)).astype(np.float32)
        grader.assert_close(f"kept_sigma (case {case}, no mask)", grader.call(exercise.kept_sigma, W),
                            kept_weight_std(W), rtol=1e-10)
        mask = rng.random(W.shape) < 0.6
        W[~mask] = 0.0  # as in a pruned layer: the zeros must not count
        grader.assert_close(f"kept_sigma (case {case}, with a mask)", grader.call(exercise.kept_sigma, W, mask),
                            kept_weight_std(W, mask), rtol=1e-10)


def test_kept_sigma_of_no_weight_or_one_weight_is_zero():
    W = np.arange(12.0).reshape(3, 4)
    nothing = np.zeros(W.shape, dtype=bool)
    single = nothing.copy()
    single[1, 2] = True
    grader.assert_close("kept_sigma with no weight kept", grader.call(exercise.kept_sigma, W, nothing), 0.0)
    grader.assert_close("kept_sigma with one weight kept", grader.call(exercise.kept_sigma, W, single), 0.0)


def test_han_threshold_mask_matches_han_prune():
    rng = np.random.default_rng(11)
    for case, q in enumerate((0.25, 0.8, 1.0, 1.9)):
        W = rng.standard_normal((9, 5)) * (0.5 + case)
        mask = None if case % 2 == 0 else rng.random(W.shape) < 0.7
        model = one_layer(W, mask)
        W_now = model.layers[0].params["W"].copy()
        mask_now = None if mask is None else model.layers[0].masks["W"].copy()
        han_prune(model, q)
        got = grader.call(exercise.han_threshold_mask, W_now, q, mask_now)
        grader.assert_equal(f"han_threshold_mask (q = {q}, {'with' if mask is not None else 'no'} mask)",
                            got, model.layers[0].masks["W"])


def test_han_threshold_mask_over_several_steps_recomputes_sigma_from_the_kept_weights():
    rng = np.random.default_rng(12)
    W = rng.standard_normal((20, 10))
    model = one_layer(W)
    mask = None
    for step in range(1, 5):
        W_now = model.layers[0].params["W"].copy()  # pruned weights are zeros now
        han_prune(model, 0.7)
        mask = grader.call(exercise.han_threshold_mask, W_now, 0.7, None if mask is None else mask.copy())
        grader.assert_equal(f"han_threshold_mask at step {step} (q = 0.7)", mask, model.layers[0].masks["W"])
        mask = np.asarray(mask, dtype=bool)


def test_han_threshold_mask_keeps_a_weight_exactly_on_the_threshold():
    rng = np.random.default_rng(13)
    W = rng.standard_normal((8, 6))
    W[0, :2] = 0.0  # with q = 0, |w| >= 0 keeps even a zero weight
    sigma = kept_weight_std(W)
    # a q whose threshold q·σ lands exactly on one weight's magnitude, in float64
    q = next(abs(w) / sigma for w in W.ravel() if w != 0 and (abs(w) / sigma) * sigma == abs(w))
    for quality in (q, 0.0):
        model = one_layer(W)
        han_prune(model, quality)
        got = grader.call(exercise.han_threshold_mask, W.copy(), quality)
        grader.assert_equal(f"han_threshold_mask (q = {quality:.6g}: |w| = q·σ is kept)", got,
                            model.layers[0].masks["W"])


def test_han_threshold_mask_never_revives_a_pruned_weight():
    rng = np.random.default_rng(14)
    W = rng.standard_normal((7, 5))
    mask = rng.random(W.shape) < 0.5
    model = one_layer(W, mask)  # the pruned weights are zeros now, and q = 0 puts the threshold at 0
    W_now = model.layers[0].params["W"].copy()
    han_prune(model, 0.0)
    got = grader.call(exercise.han_threshold_mask, W_now, 0.0, mask.copy())
    grader.assert_equal("han_threshold_mask (q = 0, with a mask: pruned weights stay pruned)", got,
                        model.layers[0].masks["W"])


def test_rescaled_dropout_matches_pynncomp():
    rng = np.random.default_rng(17)
    for _ in range(6):
        p = float(rng.uniform(0.0, 0.9))
        before = int(rng.integers(1, 10_000))
        after = int(rng.integers(0, before + 1))
        grader.assert_close(f"rescaled_dropout({p:.3f}, {before}, {after})",
                            grader.call(exercise.rescaled_dropout, p, before, after),
                            reference_rescaled_dropout(p, before, after), rtol=1e-12)


def test_rescaled_dropout_gives_the_rates_of_the_han_method_after_each_step():
    # 12 -> 8 -> ReLU -> Dropout(0.5) -> 6 -> ReLU -> Dropout(0.3) -> 3, pruned in three of Han's steps
    rng = np.random.default_rng(19)
    model = Sequential([Dense(12, 8, seed=1, dtype=np.float64), ReLU(), Dropout(0.5, seed=2),
                        Dense(8, 6, seed=3, dtype=np.float64), ReLU(), Dropout(0.3, seed=4),
                        Dense(6, 3, seed=5, dtype=np.float64)])
    original = {2: (0.5, 0), 5: (0.3, 3)}  # Dropout index: (D_o, index of the Dense whose outputs it drops)
    han = methods.get("han")
    context = StepContext(rng.standard_normal((4, 12)), np.zeros(4, dtype=np.int64), Protocol(), rng)
    for step, sparsity in enumerate((0.4, 0.7, 0.85), start=1):
        context.step = step
        prune(model, han.saliency(model, context), sparsity)
        han.after_prune(model, context)
        for index, (p_original, dense_index) in original.items():
            dense = model.layers[dense_index]
            connections = dense.params["W"].size
            kept = int(dense.masks["W"].sum())
            got = grader.call(exercise.rescaled_dropout, p_original, connections, kept)
            grader.assert_close(f"the dropout rate of layer {index} after step {step} "
                                f"(D_o = {p_original}, C_io = {connections}, C_ir = {kept})",
                                got, model.layers[index].p, rtol=1e-12)
