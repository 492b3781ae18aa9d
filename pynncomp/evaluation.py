"""Measuring a saved model on images it was not trained on.

A model file written by ``pynncomp train`` (:func:`pynncomp.experiment.save_run`)
or ``pynncomp reproduce`` records the data its model was trained on: the
data set, the split, the size and seed of the validation subset, and for
``synthetic-digits`` the generator's sizes (:func:`trained_data`).
``pynncomp evaluate`` and ``pynncomp sensitivity`` measure a model on that
data's own test (or validation) images unless told otherwise
(:func:`measurement`).

Told to measure on other data (another split, data set or validation
subset), they first work out which of the measured images the model has
seen (:func:`seen_images`): its training and validation images for a test
measurement (the validation images chose its best epoch), its training
images for a validation measurement.  A measurement on seen images is not a
test accuracy.  The two MNIST splits share most images: 10 305 of the paper
split's 12 000 test images are training images of the standard split, and
7 231 of the standard split's 10 000 test images are training images of the
paper split (``python -c "from pynncomp import data; ..."`` with
:func:`pynncomp.data.mnist_indices` shows it).  So the commands refuse such a
measurement unless asked (``--allow-overlap``), and then name the images.
"""
import dataclasses
import time

import numpy as np

from . import data, io, kernels
from .nn import Conv2D, Dense, HashedDense, SparseDense

PARTS = ("test", "val")
_SHOWN = 20  # overlapping image indices printed; the JSON output lists all


def trained_data(metadata):
    """What a model file's metadata says about the data its model was trained on.

    Parameters
    ----------
    metadata : dict
        :func:`pynncomp.io.load_metadata` of the file.

    Returns
    -------
    dict or None
        ``{"name", "split", "val_size", "seed", "n_train", "n_test",
        "variant_source"}``: the first six as :func:`pynncomp.data.load`
        takes them (``n_train``, ``n_test`` for ``synthetic-digits`` only,
        else None), and for a variant whether its images were
        ``"generated"`` from MNIST or read from the ``"original"`` archives;
        None when the file does not record it (written by an older
        pynncomp, or by ``save_model`` without it).
    """
    recorded = metadata.get("data")
    if not isinstance(recorded, dict):
        return None
    validation = recorded.get("validation") or {}
    generator = recorded.get("generator") or {}
    trained = {"name": recorded.get("name"), "split": recorded.get("split"),
               "val_size": validation.get("val_size"), "seed": validation.get("seed"),
               "n_train": generator.get("n_train"), "n_test": generator.get("n_test"),
               "variant_source": recorded.get("variant_source")}
    if trained["name"] not in data.DATASETS or trained["split"] not in data.splits.SPLITS:
        raise ValueError(f"the model file records an unknown data set or split: {recorded!r}")
    return trained


def measurement(trained, *, dataset=None, split=None, val_size=None, n_train=None, n_test=None, model_name="the model"):
    """The data to measure a model on: its own, changed only where the caller says.

    Parameters
    ----------
    trained : dict or None
        :func:`trained_data` of the model file.
    dataset, split, val_size, n_train, n_test : None or the value asked for
        None keeps the model's own (for ``split``, ``val_size`` and the
        sizes: as long as the data set is the model's own).
    model_name : str
        How error messages name the model (its path).

    Returns
    -------
    dict
        The keyword arguments of :func:`pynncomp.data.load` (``name``,
        ``split``, ``val_size``, ``seed``, and ``n_train``/``n_test`` for
        ``synthetic-digits``).
    """
    name = dataset if dataset is not None else (trained or {}).get("name")
    if name is None:
        raise ValueError(f"{model_name} does not record the data set it was trained on: give --dataset")
    if name not in data.DATASETS:
        raise ValueError(f"dataset must be one of {data.DATASETS}, got {name!r}")
    own = trained is not None and name == trained["name"]
    if split is None:
        if trained is None:
            raise ValueError(
                f"{model_name} does not record the split it was trained on, so pynncomp cannot tell its test "
                "images from its training images: give --split paper or --split standard (the one it was "
                "trained with)"
            )
        split = trained["split"] if own else "paper"
    own = own and split == trained["split"]
    request = {"name": name, "split": split,
               "val_size": val_size if val_size is not None or not own else trained["val_size"],
               "seed": trained["seed"] if own and trained["seed"] is not None else 0}
    if name == "synthetic-digits":
        request["n_train"] = n_train if n_train is not None or not own else trained["n_train"]
        request["n_test"] = n_test if n_test is not None or not own else trained["n_test"]
    elif n_train is not None or n_test is not None:
        raise ValueError(f"--n-train and --n-test are for synthetic-digits only, got them for {name!r}")
    return request


def seen_images(trained, request, part):
    """The measured images that the model has already seen, as MNIST indices.

    Parameters
    ----------
    trained : dict or None
        :func:`trained_data`.
    request : dict
        :func:`measurement`.
    part : {"test", "val"}
        The images measured.  For "test" the model's training and
        validation images count as seen; for "val" its training images.

    Returns
    -------
    numpy.ndarray of int64 or None
        Sorted indices into MNIST's 70 000 images (empty when the measured
        images are all new to the model); None when it cannot be told: the
        file does not record its data, two ``synthetic-digits`` validation
        subsets drawn with other sizes or seeds, or two data sets of which
        one is a variant read from the original archives (``request``'s
        ``"variant_source"``, known once the data is loaded).
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    if trained is None:
        return None
    if all(request.get(key) == trained.get(key) for key in request if key != "variant_source"):
        return np.zeros(0, dtype=np.int64)  # the model's own data: disjoint by construction
    if request["name"] != trained["name"] and "original" in (trained.get("variant_source"),
                                                             request.get("variant_source")):
        # the original archives' images are not indexed by MNIST's digits
        return None
    model_images = data.mnist_indices(trained["name"], trained["split"], trained["val_size"], trained["seed"] or 0)
    measured = data.mnist_indices(request["name"], request["split"], request["val_size"], request["seed"])
    if model_images is None and measured is None:
        # synthetic-digits draws its test images from a random stream of their
        # own, never from the training stream; a validation subset comes out
        # of the training stream, and another draw of it cannot be compared.
        return np.zeros(0, dtype=np.int64) if part == "test" else None
    if model_images is None or measured is None:
        return np.zeros(0, dtype=np.int64)  # generated digits against MNIST's
    seen = model_images["train"] if part == "val" else np.concatenate([model_images["train"], model_images["val"]])
    return np.intersect1d(measured[part], seen)


def _describe(spec):
    if spec["name"] == "synthetic-digits":
        sizes = "" if spec.get("n_train") is None else f": {spec['n_train']} + {spec['n_test']} images"
        return f"synthetic-digits (seed {spec.get('seed') or 0}{sizes})"
    return f"{spec['name']} ({spec['split']} split)"


def overlap_message(seen, trained, request, part):
    """One sentence saying how many (and which) measured images the model has seen.

    ``seen`` is :func:`seen_images` (None: it cannot be told).
    """
    what = "test" if part == "test" else "validation"
    used = "training or validation" if part == "test" else "training"
    if seen is None:
        return (f"pynncomp cannot tell whether the {what} images of {_describe(request)} are {used} images of "
                "this model" + (", whose file does not record its data" if trained is None
                                else f" (trained on {_describe(trained)})"))
    n_measured = data.mnist_indices(request["name"], request["split"], request["val_size"], request["seed"])[part].size
    shown = ", ".join(str(i) for i in seen[:_SHOWN]) + (", ..." if seen.size > _SHOWN else "")
    return (f"{seen.size:,} of the {n_measured:,} {what} images of {_describe(request)} were {used} images "
            f"of this model (trained on {_describe(trained)}); their MNIST indices (0-59 999: the training "
            f"file, 60 000-69 999: the test file): {shown}")


@dataclasses.dataclass(frozen=True)
class Measured:
    """A saved model with the data to measure it on (:func:`load_measured`).

    Attributes
    ----------
    path : str
    model : Sequential
    summary : dict
        The record summary saved with the model (empty if none).
    dataset : pynncomp.data.Dataset
    part : {"test", "val"}
    seen : numpy.ndarray of int64 or None
        :func:`seen_images`: empty unless the user allowed an overlap.
    """

    path: str
    model: object
    summary: dict
    dataset: object
    part: str
    seen: object

    def overlap(self):
        """``{"seen_images": count or None, "mnist_indices": list or None}``, for a JSON result."""
        if self.seen is None:
            return {"seen_images": None, "mnist_indices": None}
        return {"seen_images": int(self.seen.size), "mnist_indices": self.seen.tolist()}


def load_measured(path, *, part="test", sparse=True, dataset=None, split=None, val_size=None, n_train=None,
                  n_test=None, root=None, allow_overlap=False, allow_nonfinite=False, warn=None):
    """Load a saved model and the data to measure it on, refusing images it was trained on.

    Parameters
    ----------
    path : str or path-like
        A model file (:func:`pynncomp.io.load_model`).
    part : {"test", "val"}
        The images that will be measured.
    sparse, allow_nonfinite : bool
        As for :func:`pynncomp.io.load_model`.
    dataset, split, val_size, n_train, n_test : None or the value asked for
        :func:`measurement`: None keeps the model's own.
    root : None or path
        As for :func:`pynncomp.data.load`.
    allow_overlap : bool
        False (default): measuring on images the model was trained on (or
        on images for which that cannot be told) is a ValueError that says
        how many and which.  True: measured anyway, and ``warn`` is called.
    warn : None or callable
        Called with a message when an overlap is allowed.

    Returns
    -------
    Measured
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    model = io.load_model(path, sparse=sparse, allow_nonfinite=allow_nonfinite)
    metadata = io.load_metadata(path)
    trained = trained_data(metadata)
    summary = metadata.get("record", {})
    if trained is None and dataset is None:
        dataset = summary.get("dataset")
    request = measurement(trained, dataset=dataset, split=split, val_size=val_size, n_train=n_train,
                          n_test=n_test, model_name=str(path))
    # checked before the data is read, and again once a variant says where its images came from
    seen = _allowed_overlap(path, trained, request, part, allow_overlap, warn)
    layout = "image" if isinstance(model.layers[0], Conv2D) else "flat"
    loaded = data.load(root=root, layout=layout, **request)
    source = loaded.provenance.get("variant", {}).get("source") if loaded.name in data.VARIANTS else None
    if source == "original" and trained is not None and trained["name"] != loaded.name:
        seen = _allowed_overlap(path, trained, dict(request, variant_source=source), part, allow_overlap, warn)
    check_fits(model, loaded, path)
    return Measured(str(path), model, summary, loaded, part, seen)


def _allowed_overlap(path, trained, request, part, allow_overlap, warn):
    """:func:`seen_images`, refused when any (or unknown) unless allowed."""
    seen = seen_images(trained, request, part)
    if seen is None or seen.size:
        message = overlap_message(seen, trained, request, part)
        if not allow_overlap:
            raise ValueError(f"{path}: {message}. Measure it on its own data (leave out --dataset, --split "
                             "and --val-size), or allow the overlap (--allow-overlap, allow_overlap=True)")
        if warn is not None:
            warn(f"{message}; the accuracy below is not a {'test' if part == 'test' else 'validation'} accuracy")
    return seen


def check_fits(model, dataset, path):
    """A model made for other inputs than the data set's: ValueError naming both."""
    first = model.layers[0]
    expected = getattr(first, "n_in", None)
    if expected is None:
        expected, given, unit = getattr(first, "in_channels", None), dataset.X_test.shape[1], "channels"
    else:
        given, unit = int(np.prod(dataset.X_test.shape[1:])), "inputs"
    if expected is not None and expected != given:
        raise ValueError(f"{path} takes {expected} {unit} per image, but the images of {dataset.name} have "
                         f"{given}: it was trained on other data; give the data set it was trained on")


def inference_path(model):
    """How the layers of ``model`` compute: which kernels, on which backend."""
    kinds = []
    if any(isinstance(layer, SparseDense) for layer in model.layers):
        kinds.append("the sparse kernels")
    if any(isinstance(layer, HashedDense) for layer in model.layers):
        kinds.append("the HashedNet kernels")
    if kinds:
        kinds[-1] += f" ({kernels.ACTIVE_BACKEND} backend)"
    if any(isinstance(layer, (Dense, Conv2D)) for layer in model.layers):
        kinds.append("dense NumPy matrix products")
    return " and ".join(kinds)


def evaluate(measured):
    """Test accuracy and storage of a saved model, as ``pynncomp evaluate`` reports them.

    Parameters
    ----------
    measured : Measured
        From :func:`load_measured` with ``part="test"``.

    Returns
    -------
    dict
        ``model``, ``method``, ``arch``, ``dataset``, ``split``,
        ``test_accuracy``, ``n_test``, ``weights_kept``, ``biases``,
        ``file_bytes``, ``dense_float32_bytes``, ``file_ratio``,
        ``inference_s``, ``inference`` (:func:`inference_path`),
        ``backend``, ``recorded_test_accuracy`` (None if the file has no
        record), ``seen_images`` and ``mnist_indices`` (:meth:`Measured.overlap`).
    """
    if measured.part != "test":
        raise ValueError(f"evaluate measures test images: load with part='test', got {measured.part!r}")
    model, dataset, summary = measured.model, measured.dataset, measured.summary
    started = time.perf_counter()
    accuracy = model.accuracy(dataset.X_test, dataset.y_test)
    seconds = time.perf_counter() - started
    storage = io.storage_report(measured.path, model)
    return {
        "model": measured.path, "method": summary.get("method"), "arch": summary.get("arch"),
        "dataset": dataset.name, "split": dataset.split, "test_accuracy": accuracy,
        "n_test": int(dataset.X_test.shape[0]), "weights_kept": model.n_kept_weights, "biases": model.n_biases,
        "file_bytes": storage["file_bytes"], "dense_float32_bytes": storage["dense_float32_bytes"],
        "file_ratio": storage["ratio"], "inference_s": seconds, "inference": inference_path(model),
        "backend": kernels.ACTIVE_BACKEND, "recorded_test_accuracy": summary.get("test_accuracy"),
        **measured.overlap(),
    }


__all__ = ["PARTS", "Measured", "trained_data", "measurement", "seen_images", "overlap_message", "load_measured",
           "check_fits", "inference_path", "evaluate"]
