"""``pynncomp quickstart``: the comparative study in miniature, in about a minute.

Trains 784-100-10 three ways on the same data and timetable — uncompressed
(``dense``), magnitude pruning with L1 to 90 % of the weights removed
(``magl1``), and a HashedNet with as many real weights as the pruned net
keeps (``hashednet``) — then prints a comparison table (accuracy, kept
weights, bytes on disk, time) and draws one figure: validation accuracy
per epoch, and test accuracy against the number of parameters.

It uses MNIST when it can be found or downloaded, and otherwise the
generated ``synthetic-digits``, saying so.  The timetable is shorter than
the study's (:data:`QUICK_PROTOCOL`); ``pynncomp train`` runs the full one.
"""
import pathlib

from . import data, experiment
from .data import DataNotFoundError
from .train import Protocol, Timer

SPARSITY = 0.9
HIDDEN = 100
RUNS = (("dense", 0.0), ("magl1", SPARSITY), ("hashednet", SPARSITY))
# 4 epochs of pre-training, 3 pruning steps one epoch apart, then at most 6
# epochs of fine-tuning: 12 epochs at most per method.
QUICK_PROTOCOL = Protocol(pretrain_epochs=4, steps=3, prune_every=1, finetune_max=6, patience=2)


def load_data(root=None, say=print):
    """MNIST (paper split) if it can be had, else synthetic-digits; returns the Dataset."""
    try:
        return data.load("mnist", root=root)
    except DataNotFoundError as error:
        first_line = str(error).splitlines()[0]
        say(f"MNIST is not available ({first_line}).")
        say("Using the generated synthetic-digits instead: the numbers below are not MNIST numbers.")
        say("Put the four MNIST .gz files in a folder and set PYNNCOMP_DATA to it to use MNIST.")
        return data.load("synthetic-digits")


def quickstart(out_dir, root=None, seed=0, protocol=None, dataset=None, say=print):
    """Run the three methods, save models and records in ``out_dir``, draw the figure.

    Returns
    -------
    list of dict
        The three result records (with ``file_bytes`` and ``file_ratio``).
    """
    out_dir = pathlib.Path(out_dir)
    protocol = QUICK_PROTOCOL if protocol is None else protocol
    timer = Timer()
    if dataset is None:
        dataset = load_data(root, say)
    say(f"data: {dataset.name} ({dataset.X_train.shape[0]} training, {dataset.X_val.shape[0]} validation, "
        f"{dataset.X_test.shape[0]} test images), loaded in {timer():.1f} s")
    records = []
    for method, sparsity in RUNS:
        say(f"training {method}" + (f" to {100 * sparsity:g} % removed" if sparsity else "") + " ...")
        model, record = experiment.run(method, dataset, hidden=HIDDEN, sparsity=sparsity, seed=seed,
                                       protocol=protocol, progress=epoch_printer(say, "  "))
        _, _, record = experiment.save_run(out_dir, model, record)
        records.append(record)
    figure_path = out_dir / "quickstart.png"
    plot(records, figure_path)
    say("")
    say(table(records))
    say("")
    say(f"models, records (JSON) and the figure are in {out_dir}/ (figure: {figure_path.name}); "
        f"total {timer():.0f} s")
    return records


def epoch_printer(say, indent=""):
    """A ``progress`` callback for :func:`pynncomp.experiment.run` printing one line per epoch."""

    def show(entry):
        if entry.get("event") == "prune":
            say(f"{indent}prune step {entry['step']}: {100 * entry['achieved']:.2f} % of the "
                f"{entry.get('removes', 'weights')} removed")
            return
        say(f"{indent}epoch {entry['epoch']:3d} {entry['phase']:<8} loss {entry['loss']:.4f}  "
            f"val {100 * entry['val_accuracy']:.2f} %  sparsity {100 * entry['sparsity']:.2f} %  "
            f"lr {entry['lr']:g}  {entry['seconds']:.1f} s")

    return show


def table(records):
    """The comparison as a Markdown table."""
    lines = [
        "| method | removed | test acc. | kept weights | biases | bytes on disk | vs dense float32 | epochs | time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['method']} | {100 * r['achieved_sparsity']:.1f} % | {100 * r['test_accuracy']:.2f} % | "
            f"{r['weights_kept']:,} / {r['weights_total']:,} | {r['biases']} | {r['file_bytes']:,} | "
            f"{100 * r['file_ratio']:.1f} % | {r['epochs']} | {r['wall_s']:.0f} s |"
        )
    return "\n".join(lines)


def plot(records, path):
    """Validation accuracy per epoch (left) and test accuracy against parameters (right)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    from ._files import atomic_write

    figure = Figure(figsize=(10, 4), dpi=110)
    FigureCanvasAgg(figure)
    curves, points = figure.subplots(1, 2)
    for r in records:
        epochs = [h["epoch"] for h in r["history"]]
        curves.plot(epochs, [100 * h["val_accuracy"] for h in r["history"]], marker=".", label=r["method"])
        points.scatter([r["parameters"]], [100 * r["test_accuracy"]], s=40, label=r["method"])
        points.annotate(r["method"], (r["parameters"], 100 * r["test_accuracy"]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")
    curves.set_xlabel("epoch")
    curves.set_ylabel("validation accuracy (%)")
    curves.set_title(f"{records[0]['dataset']}, {records[0]['arch']}", fontsize=10)
    curves.grid(True, alpha=0.3)
    curves.legend(fontsize=8)
    points.set_xscale("log")
    points.xaxis.set_minor_formatter(NullFormatter())  # minor labels at 3e4, 4e4... overlap
    points.set_xlabel("parameters (kept weights + biases)")
    points.set_ylabel("test accuracy (%)")
    points.set_title(f"{100 * SPARSITY:g} % removed vs the dense net", fontsize=10)
    points.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    with atomic_write(path) as stream:
        figure.savefig(stream, format="png")
    return path


__all__ = ["quickstart", "QUICK_PROTOCOL", "table", "plot", "epoch_printer", "load_data"]
