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
import numpy as np

from . import data

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


__all__ = ["PARTS", "trained_data", "measurement", "seen_images", "overlap_message"]
