"""The protocol (validation, timetable, run-key hash, documented defaults) and the epoch loop."""
import ast
import dataclasses
import importlib
import pathlib
import re

import numpy as np
import pytest

from pynncomp import compress, models, train
from pynncomp.nn import SGD, L2
from pynncomp.train import Protocol, canonical_hash, protocol_hash, train_epoch

PROTOCOL_DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


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
    ("finetune_max", -1, "finetune_max must be >= 0"),
    ("patience", 0, "patience must be an integer >= 1"),
    ("schedule", "linear", "schedule must be one of"),
    ("scope", "neuron", "scope must be one of"),
    ("dropout", 1.0, r"dropout must be in \[0, 1\)"),
])
def test_bad_fields_are_refused_by_name(field, value, match):
    with pytest.raises(ValueError, match=match):
        Protocol(**{field: value})


def test_finetune_max_0_is_a_protocol_without_fine_tuning():
    protocol = Protocol(finetune_max=0, schedule="oneshot", steps=1)
    assert protocol.finetune_max == 0 and protocol.fixed_epochs == protocol.pretrain_epochs
    assert protocol_hash(protocol) != protocol_hash(Protocol(schedule="oneshot", steps=1))


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


# The protocol suffixes of the run keys in results/runs.jsonl (the default
# protocol), results/schedule-k10/runs.jsonl and results/han/runs.jsonl.
HAN_LENET300 = dict(finetune_max=40, han_lr_factor=1.0, lr_decay=0.95, patience=5, power=3.0, pretrain_epochs=15,
                    prune_every=2, steps=10)
COMMITTED_KEYS = [
    (Protocol(), "71499ea8"),
    (Protocol(steps=10, prune_every=2), "eaa05205"),
    (Protocol(**HAN_LENET300), "3e3be88e"),
    (Protocol(**HAN_LENET300, penalty="l1"), "a59f60e9"),
    (Protocol(**HAN_LENET300, penalty="l2", schedule="oneshot"), "d8cd5613"),
    (Protocol(batch_size=64, finetune_max=40, han_lr_factor=0.5, l2=5e-4, lr=0.02, lr_decay=0.9, patience=5,
              power=3.0, pretrain_epochs=15, prune_every=2, steps=10), "7b4b0182"),
]


@pytest.mark.parametrize("protocol, expected", COMMITTED_KEYS, ids=[key for _, key in COMMITTED_KEYS])
def test_protocol_hash_keeps_the_committed_run_keys(protocol, expected):
    old_style = {k: v for k, v in protocol.to_dict().items() if k not in train.NEUTRAL_LATER_FIELDS}
    assert protocol_hash(protocol) == protocol_hash(protocol.to_dict()) == expected
    if protocol.penalty is None and protocol.lr_decay == 1.0:
        assert protocol_hash(old_style) == expected


def test_protocol_hash_is_the_hash_of_the_identity():
    protocol = Protocol(lr_decay=0.5, penalty="l1", steps=4)
    assert protocol_hash(protocol) == canonical_hash(protocol.identity())
    # "1744f53e" begins the SHA-1 of the text {"a": 1, "b": 2}
    assert canonical_hash({"b": 2, "a": 1}) == canonical_hash({"a": 1, "b": 2}) == "1744f53e"


def test_protocol_hash_refuses_what_is_not_a_protocol():
    with pytest.raises(ValueError, match=r"misses \['lr'\]"):
        protocol_hash({k: v for k, v in Protocol().to_dict().items() if k != "lr"})
    with pytest.raises(ValueError, match="unknown protocol fields"):
        protocol_hash(dict(Protocol().to_dict(), epochs=3))
    with pytest.raises(TypeError, match="protocol must be a Protocol"):
        protocol_hash([("lr", 0.01)])


def test_scopes_have_one_home():
    engine = importlib.import_module("pynncomp.compress.prune")
    assert train.SCOPES is compress.SCOPES is engine.SCOPES


def documented_defaults():
    """``{anchor: (field, value)}`` of the sections of docs/protocol.md: ``### `field` = value``."""
    sections = re.findall(r'<a id="([^"]+)"></a>\n### `(\w+)` = (.+)\n', PROTOCOL_DOC.read_text())
    return {anchor: (field, ast.literal_eval(value)) for anchor, field, value in sections}


def test_every_default_has_its_section_in_docs_protocol_md_with_the_value():
    documented = documented_defaults()
    defaults = {field.name: field.default for field in dataclasses.fields(Protocol)}
    assert set(train.DEFAULTS_RATIONALE) == set(defaults)
    for name, where in train.DEFAULTS_RATIONALE.items():
        path, _, anchor = where.partition("#")
        assert path == "docs/protocol.md" and anchor in documented, name
        field, value = documented[anchor]
        assert field == name and value == defaults[name], name
        assert f"(docs/protocol.md#{anchor})" in " ".join(Protocol.__doc__.split()), name
