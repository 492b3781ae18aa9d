"""The protocol (validation, timetable) and the epoch loop."""
import numpy as np
import pytest

from pynncomp import models
from pynncomp.nn import SGD, L2
from pynncomp.train import Protocol, train_epoch


def test_defaults_are_valid_and_serialisable():
    protocol = Protocol()
    assert protocol.to_dict()["batch_size"] == 16
    assert protocol.fixed_epochs == protocol.pretrain_epochs + (protocol.steps - 1) * protocol.prune_every


def test_timetable():
    protocol = Protocol(pretrain_epochs=3, steps=4, prune_every=2)
    assert protocol.prune_epochs(4) == [3, 5, 7, 9]
    assert protocol.fixed_epochs == 9  # the last step opens fine-tuning
    assert protocol.prune_epochs(1) == [3]


@pytest.mark.parametrize("field, value, match", [
    ("batch_size", 0, "batch_size must be an integer >= 1"),
    ("lr", 0.0, r"lr must be in \(0, inf"),
    ("momentum", 1.0, r"momentum must be in \[0, 1\)"),
    ("l1", -1e-5, r"l1 must be in \[0, inf"),
    ("pretrain_epochs", -1, "pretrain_epochs must be >= 0"),
    ("steps", 0, "steps must be an integer >= 1"),
    ("power", 0.5, r"power must be in \[1, inf"),
    ("prune_every", 0, "prune_every must be an integer >= 1"),
    ("patience", 0, "patience must be an integer >= 1"),
    ("schedule", "linear", "schedule must be one of"),
    ("scope", "neuron", "scope must be one of"),
    ("dropout", 1.0, r"dropout must be in \[0, 1\)"),
])
def test_bad_fields_are_refused_by_name(field, value, match):
    with pytest.raises(ValueError, match=match):
        Protocol(**{field: value})


def test_bad_types_and_unknown_fields():
    with pytest.raises(TypeError, match="steps"):
        Protocol(steps=2.5)
    with pytest.raises(ValueError, match="unknown protocol fields"):
        Protocol().replace(epochs=3)
    assert Protocol().replace(steps=7).steps == 7


def test_train_epoch_lowers_the_loss_and_visits_every_sample():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((203, 784)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = models.build("mlp", 16, seed=0)
    seen = []
    original = model.loss_and_grads

    def spy(x, labels, **kwargs):
        seen.append(len(labels))
        return original(x, labels, **kwargs)

    model.loss_and_grads = spy
    optimizer = SGD(0.05, 0.9, L2(1e-4))
    first = train_epoch(model, optimizer, X, y, 16, np.random.default_rng(1))
    assert sum(seen) == 203 and seen[-1] == 203 % 16
    for _ in range(5):
        last = train_epoch(model, optimizer, X, y, 16, np.random.default_rng(1))
    assert last < 0.5 * first


def test_later_fields_at_their_neutral_value_leave_the_run_key_alone():
    from pynncomp.train import protocol_hash
    from pynncomp.train import NEUTRAL_LATER_FIELDS

    base = Protocol()
    old_style = {k: v for k, v in base.to_dict().items() if k not in NEUTRAL_LATER_FIELDS}
    assert protocol_hash(base.to_dict()) == protocol_hash(old_style) == protocol_hash(base.identity())
    assert protocol_hash(base.replace(lr_decay=0.9).to_dict()) != protocol_hash(old_style)
    assert protocol_hash(base.replace(penalty="l1").to_dict()) != protocol_hash(old_style)


def test_lr_schedule_and_penalty_override():
    protocol = Protocol(lr=0.1, lr_decay=0.5)
    assert [protocol.lr_at(e) for e in range(3)] == [0.1, 0.05, 0.025]
    assert protocol.lr_at(2, factor=0.1) == pytest.approx(0.0025)
    with pytest.raises(ValueError, match="penalty must be one of"):
        Protocol(penalty="l3")
    with pytest.raises(ValueError, match=r"lr_decay must be in \(0, 1\]"):
        Protocol(lr_decay=0.0)
