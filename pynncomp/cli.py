"""The ``pynncomp`` command line.

``pynncomp quickstart``           dense vs MagL1 90 % vs HashedNet on 784-100-10, a table and a plot
``pynncomp train``                one method, one data set, one seed: model + JSON record
``pynncomp evaluate MODEL``       accuracy and storage of a saved model (sparse inference)
``pynncomp sensitivity MODEL``    accuracy with one layer at a time pruned (table + plot)
``pynncomp reproduce TARGET``     the study's tables/figures: a resumable grid of runs in DIR/runs.jsonl
``pynncomp report DIR``           a target's table (mean ± std, the paper's numbers beside)
``pynncomp plot DIR``             a target's figure
``pynncomp info``                 version, kernel backend and kernels, as JSON
``pynncomp data info``            where MNIST is looked for and what is there
``pynncomp data preview NAME``    a grid of a data set's first training images

Errors a user can cause (an unknown name, a value out of range, missing or
corrupt data, an unwritable output) print one message to stderr and exit
with status 2.  Ctrl-C exits with status 130; every file is written
atomically, so an interrupted command leaves no half-written file.
"""
import argparse
import json
import os
import platform
import sys

import numpy as np

from . import __version__, data, experiment, kernels, methods, models
from ._files import writable_dir, writable_file
from .data import mnist, sources, splits
from .train import Protocol

# CLI option of each Protocol field, with the paper's symbol where it has one.
PROTOCOL_OPTIONS = {
    "batch_size": ("--batch-size", int, "minibatch size"),
    "lr": ("--lr", float, "SGD learning rate"),
    "momentum": ("--momentum", float, "SGD momentum in [0, 1)"),
    "l1": ("--l1", float, "lambda of the L1 penalty (magl1)"),
    "l2": ("--l2", float, "lambda of the L2 penalty (the other methods)"),
    "pretrain_epochs": ("--pretrain-epochs", int, "epochs before the first pruning step"),
    "steps": ("--steps", int, "k, the number of pruning steps (>= 1)"),
    "power": ("--power", float, "c of the schedule S*(i/k)^(1/c) (>= 1)"),
    "prune_every": ("--prune-every", int, "epochs between pruning steps"),
    "finetune_max": ("--finetune-max", int, "most epochs of fine-tuning after the last step (0: none)"),
    "patience": ("--patience", int, "fine-tuning stops after this many epochs without a better validation accuracy"),
    "schedule": ("--schedule", str, "power (the study's), cubic (Zhu & Gupta) or oneshot"),
    "scope": ("--scope", str, "global or layer (default: the method's own)"),
    "obd_samples": ("--obd-samples", int, "training images OBD's curvature is averaged over"),
    "han_lr_factor": ("--han-lr-factor", float, "han: retraining learning rate as a fraction of --lr"),
    "dropout": ("--dropout", float, "dropout after every hidden ReLU, in [0, 1)"),
    "penalty": ("--penalty", str, "l1, l2 or none for every method (default: the method's own)"),
    "lr_decay": ("--lr-decay", float, "the learning rate of epoch e is lr*lr_decay^e, in (0, 1]"),
}


def info():
    """What this installation is: version, kernel backend, kernels."""
    return {
        "version": __version__,
        "backend": kernels.ACTIVE_BACKEND,
        "c_core_built": kernels.c_available(),
        "kernels": list(kernels.KERNELS),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def _cmd_info(args):
    print(json.dumps(info(), indent=2 if args.pretty else None))
    return 0


def _cmd_data_info(args):
    report = sources.survey(mnist.MD5, mnist.SUBDIR, args.root)
    width = max(len(name) for name in mnist.MD5)
    print("MNIST files, in the order searched (the first copy found is used):")
    for origin, directory, states in report:
        print(f"  {origin}: {directory}{sources.directory_state(directory, origin)}")
        for name, path, state in states:
            print(f"    {name:<{width}}  {state}" + (f"  [{path}]" if path is not None else ""))
    if not os.environ.get(sources.DATA_ENV):
        print(f"  ({sources.DATA_ENV} is not set)")
    print(sources.verdict(report, mnist.MD5, "MNIST"))
    print(f"Download mirrors (${mnist.MIRRORS_ENV} overrides): {', '.join(mnist.mirror_list())}")
    print(f"User cache: {sources.user_cache_dir()} ($XDG_CACHE_HOME moves it)")
    from .data import variants  # on demand: it imports SciPy and matplotlib

    cached = variants.cached_variants(sources.user_cache_dir())
    print("Variants in the cache:" + ("" if cached else " none"))
    for entry in cached:
        seed = "" if entry["seed"] is None else f", seed {entry['seed']}"
        state = "ok" if entry["manifest_ok"] else f"will be remade: {entry['problem']}"
        print(f"  {entry['name']} ({entry['source']}{seed}, {entry['n_images']} images) {state}  [{entry['path']}]")
    return 0


def _cmd_data_preview(args):
    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    writable_file(args.out, "--out", ".png")
    dataset = data.load(args.name, args.split, root=args.root, val_size=0)
    from .data import preview  # on demand: it imports matplotlib

    images, labels = dataset.X_train[: args.n], dataset.y_train[: args.n]
    title = f"{args.name}, {args.split} split: first {len(images)} training images"
    preview.save_grid(images, labels, args.out, title)
    print(f"wrote {args.out}: {title}")
    return 0


def _protocol(args):
    """The Protocol of the options given (defaults for the others); an error names its option."""
    changes = {field: getattr(args, field) for field in PROTOCOL_OPTIONS if getattr(args, field) is not None}
    for field, value in changes.items():  # one at a time, so that an error is known to be this option's
        _naming_option(PROTOCOL_OPTIONS[field][0], Protocol().replace, **{field: value})
    return Protocol().replace(**changes)


def _naming_option(option, check, *args, **kwargs):
    """``check(*args, **kwargs)``, its ValueError or TypeError prefixed with the command-line ``option``."""
    try:
        return check(*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{option}: {error}") from None


def _load(name, args, layout):
    if name not in data.DATASETS:
        raise ValueError(f"--dataset must be one of {data.DATASETS}, got {name!r}")
    kwargs = {}
    if getattr(args, "n_train", None) is not None:
        kwargs["n_train"] = args.n_train
    if getattr(args, "n_test", None) is not None:
        kwargs["n_test"] = args.n_test
    return data.load(name, args.split, root=args.root, layout=layout, val_size=args.val_size, **kwargs)


def _cmd_train(args):
    sparsity = experiment.check_sparsity(args.sparsity)
    method = methods.get(args.method)
    # mlp's documented default, the study's 784-100-10; the LeNets have their own sizes
    hidden = models.arch_hidden(args.arch, [100] if args.hidden is None and args.arch == "mlp" else args.hidden)
    protocol = _protocol(args)
    method.check(args.arch, hidden, sparsity)
    if args.dataset not in data.DATASETS:
        raise ValueError(f"--dataset must be one of {data.DATASETS}, got {args.dataset!r}")
    # where the files go is checked before the training, not after it
    name = experiment.run_name(method.name, args.dataset, args.split, models.describe(args.arch, hidden), sparsity,
                               args.seed, protocol, args.layer_sparsity)
    writable_dir(args.out, "--out")
    if not args.overwrite:
        experiment.check_free(args.out, name)
    dataset = _load(args.dataset, args, models.layout_of(args.arch))
    say = (lambda *_: None) if args.quiet else print
    from .quickstart import epoch_printer

    label = (f"{method.name} on {dataset.name}, {models.describe(args.arch, hidden)}, target {100 * sparsity:g} % "
             + ("removed" if method.removes == "weights" else f"of the {method.removes} removed"))
    say(f"training {label}, seed {args.seed}")
    model, record = experiment.run(method, dataset, arch=args.arch, hidden=hidden, sparsity=sparsity,
                                   seed=args.seed, protocol=protocol, progress=epoch_printer(say, "  "),
                                   layer_sparsity=args.layer_sparsity)
    model_path, record_path, record = experiment.save_run(args.out, model, record, name, overwrite=args.overwrite)
    if "units" in record:  # structured pruning: S counts units, and the net saved is the smaller one
        units = record["units"]
        removed = (f"{units['removed']} of {units['total']} {method.removes} removed "
                   f"({100 * record['achieved_sparsity']:.2f} %), {record['weights_kept']:,} of "
                   f"{record['weights_total']:,} weights kept ({100 * record['weight_sparsity']:.2f} % removed)")
    else:
        removed = (f"{record['weights_kept']:,} of {record['weights_total']:,} weights kept "
                   f"({100 * record['achieved_sparsity']:.2f} % removed)")
    print(f"{method.name}: test accuracy {100 * record['test_accuracy']:.2f} %, validation "
          f"{100 * record['val_accuracy']:.2f} %, {removed} + {record['biases']} biases, "
          f"{record['epochs']} epochs in {record['wall_s']:.1f} s")
    print(f"model: {model_path} ({record['file_bytes']:,} bytes, {100 * record['file_ratio']:.1f} % of dense float32)")
    print(f"record: {record_path}")
    return 0


def _measured(args, part, sparse):
    """:func:`pynncomp.evaluation.load_measured` of ``args.model`` with the command's data options."""
    from . import evaluation

    return evaluation.load_measured(
        args.model, part=part, sparse=sparse, dataset=args.dataset, split=args.split, val_size=args.val_size,
        n_train=args.n_train, n_test=args.n_test, root=args.root, allow_overlap=args.allow_overlap,
        allow_nonfinite=args.allow_nonfinite,
        warn=lambda message: print(f"pynncomp: warning: {message}", file=sys.stderr))


def _cmd_evaluate(args):
    from . import evaluation

    result = evaluation.evaluate(_measured(args, "test", sparse=True))
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    recorded = result["recorded_test_accuracy"]
    print(f"{args.model}: {result['method'] or '?'} {result['arch'] or ''}".rstrip())
    print(f"  test accuracy on {result['dataset']} ({result['split']} split, {result['n_test']} images): "
          f"{100 * result['test_accuracy']:.2f} %"
          + (f" (recorded at training: {100 * recorded:.2f} %)" if recorded is not None else ""))
    print(f"  weights kept {result['weights_kept']:,}, biases {result['biases']:,}")
    print(f"  {result['file_bytes']:,} bytes on disk, {100 * result['file_ratio']:.1f} % of the dense float32 "
          f"model ({result['dense_float32_bytes']:,} bytes)")
    print(f"  inference through {result['inference']} in {result['inference_s']:.2f} s")
    return 0


def _layer_sparsity(text):
    """``0.W=0.92,2.W=0.91``: a target sparsity per prunable parameter."""
    targets = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        try:
            targets[key.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected INDEX.NAME=S pairs like 0.W=0.92,2.W=0.91, got {text!r}") from None
        if not sep:
            raise argparse.ArgumentTypeError(f"expected INDEX.NAME=S pairs like 0.W=0.92,2.W=0.91, got {text!r}")
    return targets


def _sparsities(text):
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers in [0, 1), got {text!r}") from None
    return values


def _cmd_sensitivity(args):
    from .compress.sensitivity import plot_sensitivity, sensitivity, sensitivity_table
    from ._files import atomic_write

    writable_file(args.out + ".png", "--out")
    # masks are changed layer by layer: the layers as saved, not their sparse form
    measured = _measured(args, args.on, sparse=False)
    model, summary, dataset = measured.model, measured.summary, measured.dataset
    X, y = (dataset.X_val, dataset.y_val) if args.on == "val" else (dataset.X_test, dataset.y_test)
    if X.shape[0] == 0:
        raise ValueError("the validation subset is empty (--val-size 0): use --on test or --val-size >= 1")
    result = sensitivity(model, X, y, args.sparsities)
    result.update(model=str(args.model), dataset=dataset.name, split=dataset.split, on=args.on,
                  **measured.overlap())
    table = sensitivity_table(result)
    print(f"accuracy (%) on the {args.on} images of {dataset.name} with one layer pruned by magnitude, "
          f"no retraining (unpruned: {100 * result['baseline']:.2f} %)")
    print(table)
    out = args.out
    with atomic_write(f"{out}.json") as stream:
        stream.write(json.dumps(result, indent=1).encode())
    plot_sensitivity(result, f"{out}.png",
                     title=f"{summary.get('arch', 'model')} on {dataset.name}: one layer pruned at a time")
    print(f"wrote {out}.json and {out}.png")
    return 0


def _cmd_quickstart(args):
    from .quickstart import quickstart

    writable_dir(args.out, "--out")
    quickstart(args.out, root=args.root, seed=args.seed)
    return 0


def _positive_int(text):
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _levels(text):
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated fractions, got {text!r}") from None


def _cmd_reproduce(args):
    from .reproduce import reproduce, targets

    data_options = {"root": args.root, "val_size": args.val_size, "n_train": args.n_train, "n_test": args.n_test}
    data_options = {k: v for k, v in data_options.items() if v is not None}
    datasets = args.datasets.split(",") if args.datasets else None
    if not args.dry_run:
        writable_dir(args.results, "--results")
    targets.check_target(args.target)
    # each selection on its own, so that an error is known to be its option's
    for option, selection in (("--runs", {"runs": args.runs}), ("--datasets", {"datasets": datasets}),
                              ("--levels", {"levels": args.levels})):
        _naming_option(option, targets.grid, args.target, fast=args.fast, **selection)
    if args.scheduler is not None:
        from .reproduce import cluster

        _naming_option("--scheduler", cluster.parse_scheduler, args.scheduler)
    done, failed = reproduce(args.target, args.results, runs=args.runs, jobs=args.jobs, fast=args.fast,
                             datasets=datasets, levels=args.levels, data_options=data_options, dry_run=args.dry_run,
                             scheduler=args.scheduler)
    print(f"{done} runs done now" + (f", {failed} failed (see above)" if failed else "")
          + f"; report: pynncomp report {args.results} --target {args.target}" + (" --fast" if args.fast else ""))
    return 1 if failed else 0


def _cmd_report(args):
    from .reproduce.report import report

    text, notes = report(args.results, args.target, args.format, args.fast, args.timings, args.against)
    for note in notes:
        print(f"pynncomp: warning: {note}", file=sys.stderr)
    print(text)
    return 0


def _cmd_plot(args):
    from .reproduce.plots import plot

    writable_file(args.out, "--out", ".png")
    plot(args.results, args.target, args.out, args.fast)
    print(f"wrote {args.out}")
    return 0


def _add_data_options(parser, measured=False):
    """The data options of train (``measured=False``), or of evaluate and sensitivity.

    A measured model's own data is the default of those: the data set, split,
    validation subset and generator sizes it was trained on.
    """
    own = " (default: the model's own)" if measured else ""
    parser.add_argument("--split", choices=splits.SPLITS, default=None if measured else "paper",
                        help=own or "paper: the study's 50 000/12 000; standard: MNIST's 60 000/10 000 (default paper)")
    parser.add_argument("--val-size", type=int, default=None,
                        help="training images held out for validation" + (own or " (default a tenth)"))
    parser.add_argument("--root", metavar="DIR", help="directory holding mnist/*.gz, searched first")
    parser.add_argument("--n-train", type=int, help="synthetic-digits only: training images" + own)
    parser.add_argument("--n-test", type=int, help="synthetic-digits only: test images" + own)
    if measured:
        parser.add_argument("--allow-overlap", action="store_true",
                            help="measure even on images the model was trained on (they are listed)")
        parser.add_argument("--allow-nonfinite", action="store_true",
                            help="load a model even if it holds NaN or infinite parameters")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="pynncomp",
        description="Classic neural-network compression, every equation explicit.",
    )
    parser.add_argument("--version", action="version", version=f"pynncomp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_quick = commands.add_parser(
        "quickstart", help="train 784-100-10 dense, MagL1 at 90 %% and HashedNet at the same size; table + plot"
    )
    p_quick.add_argument("--out", metavar="DIR", default="pynncomp-quickstart",
                         help="folder for the models, records and figure (default ./pynncomp-quickstart)")
    p_quick.add_argument("--root", metavar="DIR", help="directory holding mnist/*.gz, searched first")
    p_quick.add_argument("--seed", type=int, default=0, help="default 0")
    p_quick.set_defaults(run=_cmd_quickstart)

    p_train = commands.add_parser("train", help="train one method; saves the model and a JSON record")
    p_train.add_argument("--method", required=True, metavar="M", help=f"one of {', '.join(methods.METHODS)}")
    p_train.add_argument("--dataset", required=True, metavar="D", help=f"one of {', '.join(data.DATASETS)}")
    p_train.add_argument("--arch", default="mlp", metavar="A", help=f"one of {', '.join(models.ARCHS)} (default mlp)")
    p_train.add_argument("--hidden", type=int, nargs="+", metavar="H",
                         help="hidden sizes of mlp (default 100); not for the LeNets")
    p_train.add_argument("--sparsity", type=float, default=0.0, metavar="S",
                         help="fraction of the weights removed, in [0, 1) (default 0); of the hidden neurons "
                              "or conv filters for the neurons-* and filters-* methods")
    p_train.add_argument("--layer-sparsity", type=_layer_sparsity, metavar="0.W=S0,2.W=S2",
                         help="a target per layer instead of --sparsity (keys: layer index.parameter)")
    p_train.add_argument("--seed", type=int, default=0, help="default 0")
    p_train.add_argument("--out", metavar="DIR", required=True, help="folder for NAME.npz and NAME.json")
    p_train.add_argument("--overwrite", action="store_true",
                         help="replace the files of the same experiment in --out (refused otherwise)")
    p_train.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    _add_data_options(p_train)
    schedule = p_train.add_argument_group("training protocol (defaults: pynncomp.train.Protocol)")
    for field, (flag, kind, text) in PROTOCOL_OPTIONS.items():
        default = getattr(Protocol(), field)
        schedule.add_argument(flag, dest=field, type=kind, default=None, help=f"{text} (default {default})")
    p_train.set_defaults(run=_cmd_train)

    p_eval = commands.add_parser("evaluate", help="test accuracy and bytes on disk of a saved model")
    p_eval.add_argument("model", metavar="MODEL.npz")
    p_eval.add_argument("--dataset", metavar="D", help="default: the one the model was trained on")
    p_eval.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_data_options(p_eval, measured=True)
    p_eval.set_defaults(run=_cmd_evaluate)

    p_sens = commands.add_parser("sensitivity", help="accuracy with one layer at a time pruned (Han et al. Fig. 6)")
    p_sens.add_argument("model", metavar="MODEL.npz", help="a trained model, e.g. from train --method dense")
    p_sens.add_argument("--dataset", metavar="D", help="default: the one the model was trained on")
    p_sens.add_argument("--sparsities", type=_sparsities, metavar="S1,S2,...",
                        default=[0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99],
                        help="comma-separated, increasing, in [0, 1) (default 0,0.3,...,0.99)")
    p_sens.add_argument("--on", choices=("val", "test"), default="val", help="images measured (default val)")
    p_sens.add_argument("--out", metavar="PREFIX", required=True, help="writes PREFIX.json and PREFIX.png")
    _add_data_options(p_sens, measured=True)
    p_sens.set_defaults(run=_cmd_sensitivity)

    from .reproduce import targets as reproduce_targets

    target_help = f"one of {', '.join(reproduce_targets.TARGETS)}"
    p_repro = commands.add_parser("reproduce", help="run a target's grid of runs (resumable)")
    p_repro.add_argument("target", metavar="TARGET", help=target_help)
    p_repro.add_argument("--results", metavar="DIR", default="results",
                         help="folder of runs.jsonl (default ./results)")
    p_repro.add_argument("--runs", type=int,
                         help="independent runs per cell (default 5, 3 for the obs and structured targets; 2 with --fast)")
    p_repro.add_argument("--jobs", type=_positive_int, default=1, help="worker processes (default 1)")
    p_repro.add_argument("--scheduler", metavar="ADDRESS",
                         help="run on a Dask cluster instead: its scheduler's address (tcp://host:8786), or local[:N] "
                              "for a local cluster of N worker processes (default N: the cores); needs "
                              "pip install \"pynncomp[dask]\"")
    p_repro.add_argument("--fast", action="store_true",
                         help="a reduced version (fewer levels and runs, a short timetable), for tests and CI")
    p_repro.add_argument("--datasets", metavar="D1,D2", help="a subset of the target's data sets")
    p_repro.add_argument("--levels", type=_levels, metavar="S1,S2", help="a subset of the target's levels")
    p_repro.add_argument("--dry-run", action="store_true",
                         help="only say how many runs are done and list those still to do")
    p_repro.add_argument("--root", metavar="DIR", help="directory holding mnist/*.gz, searched first")
    p_repro.add_argument("--val-size", type=int, default=None, help=argparse.SUPPRESS)
    p_repro.add_argument("--n-train", type=int, help="synthetic-digits only: training images")
    p_repro.add_argument("--n-test", type=int, help="synthetic-digits only: test images")
    p_repro.set_defaults(run=_cmd_reproduce)

    p_report = commands.add_parser("report", help="a target's table from DIR/runs.jsonl")
    p_report.add_argument("results", metavar="DIR")
    p_report.add_argument("--target", required=True, help=target_help)
    p_report.add_argument("--format", choices=("md", "csv", "tex"), default="md", help="default md")
    p_report.add_argument("--fast", action="store_true", help="the runs of reproduce --fast")
    p_report.add_argument("--timings", action="store_true",
                          help="the wall time of the target's runs instead (per run, in total, at --jobs 2)")
    p_report.add_argument("--against", metavar="OTHER_DIR",
                          help="compare with the runs of the target in OTHER_DIR, cell by cell (accuracy, "
                               "difference, within 2 combined std, wall time)")
    p_report.set_defaults(run=_cmd_report)

    p_plot = commands.add_parser("plot", help="a target's figure from DIR/runs.jsonl")
    p_plot.add_argument("results", metavar="DIR")
    p_plot.add_argument("--target", required=True, help=target_help)
    p_plot.add_argument("--out", metavar="FILE.png", required=True)
    p_plot.add_argument("--fast", action="store_true", help="the runs of reproduce --fast")
    p_plot.set_defaults(run=_cmd_plot)

    p_info = commands.add_parser("info", help="print version, kernel backend and kernels as JSON")
    p_info.add_argument("--pretty", action="store_true", help="indent the JSON")
    p_info.set_defaults(run=_cmd_info)

    p_data = commands.add_parser("data", help="MNIST and its variants: what is where, previews")
    p_data.set_defaults(parser=p_data)
    data_commands = p_data.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    root_help = "directory holding mnist/*.gz, searched before $PYNNCOMP_DATA and the user cache"
    p_data_info = data_commands.add_parser(
        "info", help="the directories searched, the state of each MNIST file, the cache"
    )
    p_data_info.add_argument("--root", metavar="DIR", help=root_help)
    p_data_info.set_defaults(run=_cmd_data_info)
    p_preview = data_commands.add_parser("preview", help="save a grid of a data set's first training images")
    p_preview.add_argument("name", metavar="NAME", choices=data.DATASETS, help=f"one of {', '.join(data.DATASETS)}")
    p_preview.add_argument("--out", metavar="FILE.png", required=True, help="image file to write")
    p_preview.add_argument("--n", type=int, default=32, help="number of images (default 32)")
    p_preview.add_argument("--split", choices=splits.SPLITS, default="paper", help="default paper")
    p_preview.add_argument("--root", metavar="DIR", help=root_help)
    p_preview.set_defaults(run=_cmd_data_preview)
    return parser


# What pynncomp raises for input a user can get wrong: ValueError (a value
# out of range, a corrupt or foreign file, data the model has seen),
# OSError (data.DataNotFoundError, a folder it cannot write) and
# FloatingPointError (training diverged).  A TypeError is not among them:
# every command-line value reaches the library as the type it expects, so a
# TypeError is a bug and keeps its traceback.
USER_ERRORS = (ValueError, OSError, FloatingPointError)

# Commands that train or evaluate networks: they keep freed memory (see pynncomp._memory).
COMPUTE_COMMANDS = ("quickstart", "train", "evaluate", "sensitivity", "reproduce")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        getattr(args, "parser", parser).print_help(sys.stderr)
        return 2
    if args.command in COMPUTE_COMMANDS:
        from ._memory import keep_freed_memory
        from ._threads import limit_blas_threads

        keep_freed_memory()
        limit_blas_threads()
    try:
        return args.run(args)
    except USER_ERRORS as err:
        print(f"pynncomp: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pynncomp: interrupted; files are written whole or not at all, none was left half-written",
              file=sys.stderr)
        return 130
