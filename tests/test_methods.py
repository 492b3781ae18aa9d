"""Every method on tiny synthetic data: exact sparsity, pruned stays 0, determinism, specifics."""
import json

import numpy as np
import pytest

from pynncomp import data, experiment, methods
from pynncomp.compress import kept_count, prune, pruning_report
from pynncomp.methods import StepContext
from pynncomp.nn import Dense, Dropout, HashedDense, Sequential
from pynncomp.train import Protocol, protocol_hash

TINY = Protocol(pretrain_epochs=1, steps=3, prune_every=1, finetune_max=2, patience=1, batch_size=32,
                obd_samples=200)
# obs holds the inverse Hessian of the whole net, which 784-24-10 is too big
# for: tests/test_obs.py runs it on 784-2-10.  The neurons-* and filters-*
# methods count units, not weights: tests/test_structured.py.
PRUNING = [m for m in methods.METHODS if methods.get(m).prunes and methods.get(m).removes == "weights" and m != "obs"]


@pytest.fixture(scope="module")
def digits():
    return data.load("synthetic-digits", n_train=600, n_test=200, val_size=100, seed=0)


@pytest.fixture
def watched(monkeypatch):
    """Check after every epoch that masks only shrink and pruned weights are exactly 0."""
    from pynncomp import experiment as experiment_module

    original = experiment_module.train_epoch
    seen = {"epochs": 0, "masks": {}}

    def checked_epoch(model, optimizer, X, y, batch_size, rng):
        loss = original(model, optimizer, X, y, batch_size, rng)
        seen["epochs"] += 1
        for index, layer, name in model.parameters(prunable_only=True):
            mask = layer.masks.get(name)
            if mask is None:
                continue
            assert not layer.params[name][~mask].any(), "a pruned weight moved"
            before = seen["masks"].get((index, name))
            if before is not None:
                assert not (mask & ~before).any(), "a pruned weight was revived"
            seen["masks"][(index, name)] = mask.copy()
        return loss

    monkeypatch.setattr(experiment_module, "train_epoch", checked_epoch)
    return seen


@pytest.mark.parametrize("name", PRUNING)
@pytest.mark.parametrize("sparsity", [0.5, 0.9, 0.97])
def test_every_pruning_method_reaches_the_exact_sparsity(name, sparsity, digits, watched):
    model, record = experiment.run(name, digits, hidden=24, sparsity=sparsity, seed=1, protocol=TINY)
    m = 784 * 24 + 24 * 10
    assert model.n_kept_weights == kept_count(sparsity, m) == record["weights_kept"]
    assert record["achieved_sparsity"] == 1 - kept_count(sparsity, m) / m
    assert watched["epochs"] == record["epochs"] >= TINY.fixed_epochs + 1
    for _, layer, name_ in model.parameters(prunable_only=True):
        assert not layer.params[name_][~layer.masks[name_]].any()
    json.dumps(record)  # the record is JSON-ready


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_scope_layer_prunes_every_layer_to_the_same_fraction(scope, digits):
    protocol = TINY.replace(scope=scope)
    model, record = experiment.run("magl2", digits, hidden=24, sparsity=0.8, seed=0, protocol=protocol)
    kept = [int(layer.masks["W"].sum()) for layer in model.layers if "W" in layer.params]
    if scope == "layer":
        assert kept == [kept_count(0.8, 784 * 24), kept_count(0.8, 24 * 10)]
    assert record["config"]["scope"] == scope


def test_same_seed_same_numbers_other_seed_other_numbers(digits):
    a = experiment.run("obd", digits, hidden=16, sparsity=0.9, seed=5, protocol=TINY)
    b = experiment.run("obd", digits, hidden=16, sparsity=0.9, seed=5, protocol=TINY)
    c = experiment.run("obd", digits, hidden=16, sparsity=0.9, seed=6, protocol=TINY)
    for la, lb in zip(a[0].layers, b[0].layers):
        for name in la.params:
            np.testing.assert_array_equal(la.params[name], lb.params[name])
    assert [h["loss"] for h in a[1]["history"]] == [h["loss"] for h in b[1]["history"]]
    assert a[1]["test_accuracy"] == b[1]["test_accuracy"]
    assert not np.array_equal(a[0].layers[0].params["W"], c[0].layers[0].params["W"])


def test_the_record_has_the_required_fields(digits):
    _, record = experiment.run("magl1", digits, hidden=16, sparsity=0.9, seed=0, protocol=TINY)
    for field in experiment.RECORD_FIELDS:
        assert field in record, field
    assert record["arch"] == "784-16-10" and record["hidden"] == [16]
    assert record["biases"] == 26 and record["weights_total"] == 784 * 16 + 160
    assert record["config"]["protocol"]["steps"] == 3
    assert record["config"]["penalty"] == "L1(lam=5e-05)"
    assert record["config"]["schedule"][-1] == 0.9
    assert len(record["history"]) == record["epochs"]


def test_fine_tuning_restores_the_best_validation_epoch(digits):
    model, record = experiment.run("magl2", digits, hidden=16, sparsity=0.5, seed=2,
                                   protocol=TINY.replace(finetune_max=4, patience=4, lr=0.2))
    finetune = [h["val_accuracy"] for h in record["history"] if h["phase"] == "finetune"]
    assert record["val_accuracy"] == max(finetune)
    assert model.accuracy(digits.X_val, digits.y_val) == record["val_accuracy"]


def test_dense_does_not_prune_and_refuses_a_sparsity(digits):
    model, record = experiment.run("dense", digits, hidden=16, seed=0, protocol=TINY)
    assert record["achieved_sparsity"] == 0 and not any(layer.masks for layer in model.layers)
    with pytest.raises(ValueError, match="'dense' does not compress"):
        experiment.run("dense", digits, hidden=16, sparsity=0.5, protocol=TINY)


def test_hashednet_matches_the_pruned_weight_count_and_shares_weights(digits):
    sparsity = 0.9
    model, record = experiment.run("hashednet", digits, hidden=24, sparsity=sparsity, seed=0, protocol=TINY)
    m = 784 * 24 + 24 * 10
    hashed = [layer for layer in model.layers if isinstance(layer, HashedDense)]
    assert len(hashed) == 2
    assert sum(layer.K for layer in hashed) == kept_count(sparsity, m) == record["weights_kept"]
    assert record["weights_total"] == m
    for layer in hashed:
        V = layer.virtual_weights()
        w = layer.params["w"]
        # every virtual weight is ± the real weight of its bucket, after training
        np.testing.assert_array_equal(np.abs(V), np.abs(w[layer.bucket]))
        np.testing.assert_array_equal(V, layer.sign * w[layer.bucket])
        for k in range(0, layer.K, max(1, layer.K // 7)):
            in_bucket = np.abs(V[layer.bucket == k])
            assert np.all(in_bucket == in_bucket[0])


def test_hashednet_sparsity_is_the_share_of_virtual_weights_not_stored(digits):
    model, record = experiment.run("hashednet", digits, hidden=24, sparsity=0.9, seed=0, protocol=TINY)
    stored, m = sum(layer.K for layer in model.layers if isinstance(layer, HashedDense)), 784 * 24 + 24 * 10
    assert record["achieved_sparsity"] == methods.get("hashednet").achieved_sparsity(model) == 1 - stored / m
    assert pruning_report(model)["achieved_sparsity"] == 0.0  # no weight of a hashed net is pruned


def test_each_run_gets_its_own_method_object():
    assert methods.get("obd") is not methods.get("obd")
    assert isinstance(methods.get("dense"), methods.Uncompressed) and methods.get("dense").name == "dense"
    han = methods.get("han")
    assert methods.get(han) is han
    with pytest.raises(TypeError, match="method must be a name"):
        methods.get(3)


@pytest.mark.parametrize("name, reported", [("magl2", set()), ("obd", {"obd_subsample"}), ("han", {"steps"}),
                                            ("hashednet", set())])
def test_method_notes_hold_only_what_the_record_reports(name, reported, digits):
    protocol = TINY.replace(dropout=0.2)
    _, first = experiment.run(name, digits, hidden=8, sparsity=0.8, seed=3, protocol=protocol)
    _, second = experiment.run(name, digits, hidden=8, sparsity=0.8, seed=3, protocol=protocol)
    assert set(first["method_notes"]) == reported
    json.dumps(first["method_notes"], allow_nan=False)
    # nothing carried over from the first run: the second has the same numbers
    assert second["method_notes"] == first["method_notes"] and second["test_accuracy"] == first["test_accuracy"]


def test_hashednet_refuses_lenet5():
    with pytest.raises(ValueError, match="hashes dense layers"):
        methods.get("hashednet").check("lenet5", (500,), 0.9)


def test_unknown_method_lists_the_valid_ones(digits):
    with pytest.raises(ValueError, match=r"method must be one of \('dense', 'magl1'"):
        experiment.run("prune-it", digits, hidden=8)


@pytest.mark.parametrize("kwargs, match", [
    ({"sparsity": 1.0}, r"sparsity must be in \[0, 1\)"),
    ({"sparsity": -0.1}, r"sparsity must be in \[0, 1\)"),
    ({"hidden": 0}, "hidden must be an integer >= 1"),
    ({"seed": -1}, "seed must be >= 0"),
    ({"arch": "vgg"}, "arch must be one of"),
])
def test_out_of_range_arguments_are_refused(kwargs, match, digits):
    kwargs = {"hidden": 8, **kwargs}
    with pytest.raises(ValueError, match=match):
        experiment.run("magl2", digits, protocol=TINY, **kwargs)


def test_layout_and_validation_are_checked(digits):
    with pytest.raises(ValueError, match="layout='image'"):
        experiment.run("magl2", digits, arch="lenet5", protocol=TINY)
    no_val = data.load("synthetic-digits", n_train=100, n_test=50, val_size=0)
    with pytest.raises(ValueError, match="val_size >= 1"):
        experiment.run("magl2", no_val, hidden=8, protocol=TINY)


def _curvature_case():
    """One dense layer where magnitude and curvature disagree.

    Input 0 is tiny (±0.01) and carries big weights; input 1 is of order 1
    and carries small weights.  OBD's h ∝ x² makes the big weights of the
    tiny input the cheap ones to remove; magnitude removes the small ones.
    """
    rng = np.random.default_rng(0)
    X = np.stack([0.01 * rng.standard_normal(400), rng.standard_normal(400)], axis=1).astype(np.float64)
    layer = Dense(2, 3, dtype=np.float64)
    layer.params["W"][...] = [[4.0, -5.0, 4.5], [0.3, -0.4, 0.35]]
    model = Sequential([layer])
    y = np.argmax(model.forward(X)[0], axis=1)
    return model, X, y


def test_obd_and_magl2_prune_different_weights_where_curvature_matters():
    model, X, y = _curvature_case()
    context = StepContext(X, y, Protocol(obd_samples=400), np.random.default_rng(0))
    obd_model, mag_model = _copy(model), _copy(model)
    prune(obd_model, methods.get("obd").saliency(obd_model, context), 0.5)
    prune(mag_model, methods.get("magl2").saliency(mag_model, context), 0.5)
    assert mag_model.layers[0].masks["W"].tolist() == [[True, True, True], [False, False, False]]
    assert obd_model.layers[0].masks["W"].tolist() == [[False, False, False], [True, True, True]]
    # and OBD's choice costs less loss, the point of the method
    assert obd_model.loss(X, y)[0] < mag_model.loss(X, y)[0]


def _copy(model):
    layer = model.layers[0]
    twin = Dense(layer.n_in, layer.n_out, dtype=np.float64)
    twin.params = {k: v.copy() for k, v in layer.params.items()}
    return Sequential([twin])


def test_obd_uses_a_fixed_subsample_of_the_requested_size(digits):
    _, record = experiment.run("obd", digits, hidden=8, sparsity=0.5, protocol=TINY.replace(obd_samples=123))
    assert record["method_notes"]["obd_subsample"] == 123


def test_han_lowers_the_learning_rate_and_reports_thresholds(digits):
    protocol = TINY.replace(lr=0.05, han_lr_factor=0.1)
    model, record = experiment.run("han", digits, hidden=24, sparsity=0.9, seed=0, protocol=protocol)
    lrs = [h["lr"] for h in record["history"]]
    assert lrs[:TINY.pretrain_epochs] == [0.05] * TINY.pretrain_epochs
    assert lrs[TINY.pretrain_epochs:] == pytest.approx([0.005] * (len(lrs) - TINY.pretrain_epochs))
    steps = record["method_notes"]["steps"]
    assert [s["step"] for s in steps] == [1, 2, 3]
    # every kept weight is at or above q·σ of its layer (σ of the layer's kept weights before the step)
    assert steps[-1]["kept_fraction"]["0.W"] == pytest.approx(model.layers[0].masks["W"].mean())
    assert steps[-1]["q"] > 0


def test_han_threshold_is_per_layer():
    """The layer-normalised saliency prunes |w| < q·σ_l in each layer, for one q."""
    model = Sequential([Dense(50, 40, seed=0), Dense(40, 30, seed=1)])
    model.layers[1].params["W"] *= 10.0  # a layer of much larger weights
    saliency = methods.layer_normalised_magnitude(model)
    prune(model, saliency, 0.6)
    kept_fractions = [layer.masks["W"].mean() for layer in model.layers]
    # plain magnitude would strip layer 0 first; per-layer σ prunes both alike
    assert abs(kept_fractions[0] - kept_fractions[1]) < 0.1
    q = max(s[~layer.masks["W"]].max() for s, layer in zip(saliency.values(), model.layers))
    for s, layer in zip(saliency.values(), model.layers):
        assert s[layer.masks["W"]].min() >= q


def test_han_reports_no_q_when_a_step_cuts_into_a_layer_of_zero_sigma():
    """A layer whose kept weights are all 0.25 has σ_l = 0 and s = +inf: the exact count goes past every q."""
    model = Sequential([Dense(6, 5, seed=0, dtype=np.float64), Dense(5, 4, seed=1, dtype=np.float64)])
    model.layers[1].params["W"][...] = 0.25
    X = np.random.default_rng(0).standard_normal((10, 6))
    context = StepContext(X, np.zeros(10, dtype=np.int64), TINY, np.random.default_rng(0), step=1)
    han = methods.get("han")
    prune(model, han.saliency(model, context), {(0, "W"): 0.5, (1, "W"): 0.5}, scope="layer")
    han.after_prune(model, context)
    step = context.notes["steps"][0]
    assert step["q_layer"]["1.W"] is None and step["q"] is None
    assert 0 < step["q_layer"]["0.W"] < np.inf and step["kept_fraction"] == {"0.W": 0.5, "1.W": 0.5}
    json.dumps(context.notes, allow_nan=False)


def test_han_rescales_dropout(digits):
    protocol = TINY.replace(dropout=0.5)
    model, _ = experiment.run("han", digits, hidden=24, sparsity=0.9, seed=0, protocol=protocol)
    dropout = [layer for layer in model.layers if isinstance(layer, Dropout)][0]
    kept = model.layers[0].masks["W"].mean()
    assert dropout.p == pytest.approx(0.5 * np.sqrt(kept))


def test_random_saliency_is_worse_than_magnitude_on_average(digits):
    """A sanity check that pruning choices matter: at 97 % magnitude beats random."""
    protocol = TINY.replace(finetune_max=1)
    mag = experiment.run("magl2", digits, hidden=24, sparsity=0.97, seed=0, protocol=protocol)[1]
    rnd = experiment.run("random", digits, hidden=24, sparsity=0.97, seed=0, protocol=protocol)[1]
    assert mag["val_accuracy"] > rnd["val_accuracy"]


def test_oneshot_prunes_once_at_the_first_pruning_epoch(digits):
    events = []
    experiment.run("oneshot", digits, hidden=16, sparsity=0.8, protocol=TINY,
                   progress=lambda e: events.append(e) if e.get("event") == "prune" else None)
    assert [(e["epoch"], e["target"]) for e in events] == [(TINY.pretrain_epochs + 1, 0.8)]


def test_iterative_steps_follow_the_schedule(digits):
    events = []
    experiment.run("magl2", digits, hidden=16, sparsity=0.8, protocol=TINY.replace(power=2.0),
                   progress=lambda e: events.append(e) if e.get("event") == "prune" else None)
    expected = [0.8 * (i / 3) ** 0.5 for i in (1, 2, 3)]
    assert [e["target"] for e in events] == pytest.approx(expected)
    assert [e["epoch"] for e in events] == [2, 3, 4]


def test_save_run_writes_a_smaller_model_and_the_record(digits, tmp_path):
    from pynncomp import io

    model, record = experiment.run("magl2", digits, hidden=32, sparsity=0.9, seed=0, protocol=TINY)
    model_path, record_path, saved = experiment.save_run(tmp_path, model, record)
    assert model_path.name == f"magl2_synthetic-digits_784-32-10_S0.9_seed0_p{protocol_hash(TINY.to_dict())}.npz"
    assert json.loads(record_path.read_text())["file_bytes"] == model_path.stat().st_size
    # smaller than the same weights stored dense (masks dropped)
    for layer in model.layers:
        layer.masks = {}
    dense_bytes = io.save_model(tmp_path / "dense" / "same.npz", model)
    assert saved["file_bytes"] < 0.3 * dense_bytes
    loaded = io.load_model(model_path, sparse=True)
    assert loaded.accuracy(digits.X_test, digits.y_test) == record["test_accuracy"]
    assert io.load_metadata(model_path)["record"]["method"] == "magl2"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([model_path.name, record_path.name, "dense"])


def test_lenet5_and_lenet300_train_and_prune_exactly():
    images = data.load("synthetic-digits", n_train=300, n_test=100, val_size=60, layout="image")
    protocol = TINY.replace(finetune_max=1)
    model, record = experiment.run("magl2", images, arch="lenet5", sparsity=0.9, seed=0, protocol=protocol)
    assert record["arch"] == "lenet5" and record["weights_total"] == 430_500
    assert model.n_kept_weights == kept_count(0.9, 430_500)
    flat = data.load("synthetic-digits", n_train=300, n_test=100, val_size=60)
    model, record = experiment.run("han", flat, arch="lenet300", sparsity=0.92, seed=0, protocol=protocol)
    assert record["arch"] == "784-300-100-10" and record["hidden"] == [300, 100]
    assert model.n_kept_weights == kept_count(0.92, 266_200)
    assert set(record["method_notes"]["steps"][-1]["kept_fraction"]) == {"0.W", "2.W", "4.W"}


@pytest.mark.parametrize("name, protocol", [
    ("magl2", TINY.replace(pretrain_epochs=2)),
    ("obd", TINY.replace(pretrain_epochs=2, dropout=0.3)),
    ("han", TINY.replace(pretrain_epochs=1, steps=1, dropout=0.2)),
])
def test_shared_pretraining_gives_bit_identical_runs(name, protocol, digits):
    """Runs differing only in S reuse one pre-training, and get exactly the numbers of a fresh run."""
    cache = {}
    for sparsity in (0.5, 0.9, 0.95):
        fresh_model, fresh = experiment.run(name, digits, hidden=16, sparsity=sparsity, seed=4, protocol=protocol)
        model, record = experiment.run(name, digits, hidden=16, sparsity=sparsity, seed=4, protocol=protocol,
                                       pretrained=cache)
        assert record["pretraining_reused"] == (sparsity != 0.5)
        assert [h["loss"] for h in record["history"]] == [h["loss"] for h in fresh["history"]]
        assert record["test_accuracy"] == fresh["test_accuracy"]
        for a, b in zip(model.layers, fresh_model.layers):
            for key in a.params:
                np.testing.assert_array_equal(a.params[key], b.params[key])
    assert len(cache) == 1
    # another seed or method does not reuse it
    _, other = experiment.run(name, digits, hidden=16, sparsity=0.9, seed=5, protocol=protocol, pretrained=cache)
    assert not other["pretraining_reused"] and len(cache) == 2


# What a run measures of its own time: the only fields allowed to differ between two runs of the same numbers.
WALL_TIMES = ("wall_s", "started_utc", "prune_s", "prune_step_s")


def _numbers(record):
    """The record without its wall times and without whether its pre-training came from the cache."""
    kept = {k: v for k, v in record.items() if k not in WALL_TIMES + ("pretraining_reused",)}
    kept["history"] = [{k: v for k, v in entry.items() if k != "seconds"} for entry in record["history"]]
    return kept


def test_methods_of_one_network_and_penalty_share_pretraining_and_every_number_stays():
    """The cache shared across methods and levels: each record equals, bit for bit, the record of the run alone.

    MagL2, OBD, L-OBS, Han, one-shot, random and dense build the same net and
    train with L2 at the same λ: their pre-training is trained once.  MagL1
    (L1), a HashedNet (its own net, sized by S) and another λ are set apart.
    """
    digits = data.load("synthetic-digits", n_train=400, n_test=100, val_size=80, seed=0)
    protocol = TINY.replace(pretrain_epochs=2, steps=2, dropout=0.2, obd_samples=100)
    runs = [("magl2", 0.5, protocol), ("obd", 0.5, protocol), ("lobs", 0.9, protocol), ("magl2", 0.9, protocol),
            ("han", 0.9, protocol), ("oneshot", 0.8, protocol), ("random", 0.8, protocol), ("dense", 0.0, protocol),
            ("magl1", 0.5, protocol), ("magl1", 0.5, protocol.replace(penalty="l2")),
            ("hashednet", 0.5, protocol), ("hashednet", 0.9, protocol), ("obd", 0.9, protocol.replace(l2=1e-4))]
    cache, reused = {}, []
    for name, sparsity, with_protocol in runs:
        alone_model, alone = experiment.run(name, digits, hidden=12, sparsity=sparsity, seed=2,
                                            protocol=with_protocol)
        model, shared = experiment.run(name, digits, hidden=12, sparsity=sparsity, seed=2, protocol=with_protocol,
                                       pretrained=cache)
        assert json.dumps(_numbers(shared), allow_nan=False) == json.dumps(_numbers(alone), allow_nan=False), name
        for a, b in zip(model.layers, alone_model.layers):
            for key in a.params:
                np.testing.assert_array_equal(a.params[key], b.params[key])
        assert not alone["pretraining_reused"]
        reused.append(shared["pretraining_reused"])
    # one pre-training for the seven L2 methods (and MagL1 told to train with L2), one for MagL1 with L1,
    # one per HashedNet size, one for the other λ
    assert reused == [False, True, True, True, True, True, True, True, False, True, False, False, False]
    assert len(cache) == 5


def test_only_a_method_that_builds_its_own_network_is_set_apart():
    assert [methods.get(name).pretraining_identity(0.9) for name in PRUNING + ["dense"]] == [None] * (len(PRUNING) + 1)
    assert methods.get("obs").pretraining_identity(0.5) is None
    hashed = methods.get("hashednet")
    assert hashed.pretraining_identity(0.9) != hashed.pretraining_identity(0.5)
    assert hashed.pretraining_identity(0.9) == methods.get("hashednet").pretraining_identity(0.9)


def test_a_sparsity_per_layer_is_reached_exactly_layer_by_layer(digits):
    targets = {"0.W": 0.92, "2.W": 0.91, "4.W": 0.74}  # Han et al.'s LeNet-300-100 (8 %, 9 %, 26 % kept)
    events = []
    model, record = experiment.run("han", digits, arch="lenet300", layer_sparsity=targets, seed=0, protocol=TINY,
                                   progress=lambda e: events.append(e) if e.get("event") == "prune" else None)
    sizes = {"0.W": 784 * 300, "2.W": 300 * 100, "4.W": 100 * 10}
    for key, S_l in targets.items():
        assert record["layers"][key]["kept"] == kept_count(S_l, sizes[key])
    kept = sum(kept_count(S_l, sizes[key]) for key, S_l in targets.items())
    assert record["weights_kept"] == kept and record["target_sparsity"] == 1 - kept / sum(sizes.values())
    assert record["config"]["scope"] == "layer" and record["config"]["layer_sparsity"] == targets
    # every layer follows the schedule to its own target
    assert [e["target"][(4, "W")] for e in events] == pytest.approx([0.74 * (i / 3) ** 0.1 for i in (1, 2, 3)])
    json.dumps(record)


@pytest.mark.parametrize("layer_sparsity, error, match", [
    ({"0.W": 0.5}, ValueError, r"misses \['2.W'\]"),
    ({"0.W": 0.5, "2.W": 0.5, "1.W": 0.1}, ValueError, "no prunable parameter"),
    ({"0.W": 1.0, "2.W": 0.5}, ValueError, r"sparsity must be in \[0, 1\)"),
    ([0.5, 0.5], TypeError, "layer_sparsity must be a dict"),
])
def test_bad_layer_sparsity_is_refused(layer_sparsity, error, match, digits):
    with pytest.raises(error, match=match):
        experiment.run("magl2", digits, hidden=8, layer_sparsity=layer_sparsity, protocol=TINY)
    with pytest.raises(ValueError, match="does not prune"):
        experiment.run("dense", digits, hidden=8, layer_sparsity={"0.W": 0.5, "2.W": 0.5}, protocol=TINY)


def test_penalty_override_and_lr_decay_are_applied(digits):
    protocol = TINY.replace(penalty="l1", lr_decay=0.5, lr=0.08)
    _, record = experiment.run("magl2", digits, hidden=8, sparsity=0.5, protocol=protocol)
    assert record["config"]["penalty"] == f"L1(lam={protocol.l1})"
    assert [h["lr"] for h in record["history"]] == [0.08 * 0.5 ** e for e in range(record["epochs"])]
    _, none = experiment.run("magl1", digits, hidden=8, sparsity=0.5, protocol=TINY.replace(penalty="none"))
    assert none["config"]["penalty"] == "None"


def test_han_retraining_restarts_the_learning_rate_decay(digits):
    protocol = TINY.replace(lr=0.08, lr_decay=0.5, han_lr_factor=0.1, pretrain_epochs=2)
    _, record = experiment.run("han", digits, hidden=8, sparsity=0.5, protocol=protocol)
    lrs = [h["lr"] for h in record["history"]]
    assert lrs[:2] == [0.08, 0.04]
    # steps at epochs 2 and 3 (prune_every 1), the last at 4 opening fine-tuning
    assert lrs[2:5] == pytest.approx([0.008, 0.008, 0.008])
    assert lrs[4:] == pytest.approx([0.008 * 0.5 ** e for e in range(len(lrs) - 4)])
