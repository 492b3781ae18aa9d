"""The documents say only what is true: their links resolve and their commands run as written.

Checked in ``README.md``, ``CONTRIBUTING.md``, ``docs/*.md`` and
``results/README.md``:

* every relative link names a file of the repository, every ``#anchor``
  into a Markdown file names an anchor it defines (an ``<a id>`` or a
  heading), and every function or class a link names is defined in the
  file it points to;
* every ``pynncomp ...`` line of a ``bash`` block is a valid command line
  (the command's own parser reads it); the ones that only read the
  committed evidence (``info``, ``data info``, ``report``, ``plot``, and
  ``reproduce``, given ``--dry-run``) are run for real, from a folder that
  links to the committed results, and must exit 0, unless their comment
  says what they need that the repository does not hold (``# needs ...``);
* every ``python benchmarks/...`` or ``python tutorials/...`` names a file
  that exists;
* nothing in the repository refers to a file outside it or to how it was
  developed.
"""
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

from pynncomp import cli

REPO = pathlib.Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "results" / "README.md",
                    *(REPO / "docs").glob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#+\s+(.*)$", re.MULTILINE)
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
# Commands that only read what is committed, and so are run for real.
READ_ONLY = {"info", "report", "plot"}


def github_slug(heading):
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    text = path.read_text()
    return set(ANCHOR.findall(text)) | {github_slug(h) for h in HEADING.findall(text)}


def links(path):
    """(target path, anchor or None) of every relative link in a document, outside code blocks."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        file_part, _, anchor = target.partition("#")
        yield (path.parent / file_part).resolve() if file_part else path, anchor or None


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_resolves(document):
    broken = []
    for target, anchor in links(document):
        if not target.exists():
            broken.append(f"{target.relative_to(REPO) if REPO in target.parents else target} does not exist")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{target.relative_to(REPO)} has no anchor #{anchor}")
    assert broken == []


CODE_LINK = re.compile(r"\[`([A-Za-z_][\w.]*)`\]\(([^)#\s]+\.py)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_function_a_document_links_to_is_defined_where_it_points(document):
    """``[`Dense.backward`](../pynncomp/nn/dense.py)``: the file defines ``backward`` (a two-click promise)."""
    missing = []
    for name, target in CODE_LINK.findall(document.read_text()):
        path = (document.parent / target).resolve()
        if name.endswith(".py") or not path.exists():
            continue  # a link to the file itself; a missing file is test_every_link_resolves's
        defined = name.split(".")[-1]
        if not re.search(rf"^\s*(def|class) {re.escape(defined)}\b|^{re.escape(defined)}\s*=", path.read_text(), re.M):
            missing.append(f"{name} is not defined in {path.relative_to(REPO)}")
    assert missing == []


def commands(needing=False):
    """(document, line) of every shell command in a ``bash`` block of the documents.

    With ``needing``, only the commands whose comment says they need
    something the repository does not hold (``# needs ...``).
    """
    found = []
    for document in DOCUMENTS:
        for block in re.findall(r"```bash\n(.*?)```", document.read_text(), flags=re.DOTALL):
            variables = {}  # NAME=value lines of the block, expanded in the lines after them
            for line in block.splitlines():
                line, _, comment = line.partition(" #")
                line = line.strip()
                assignment = re.fullmatch(r"([A-Z_]+)=(\S+)", line)
                if assignment:
                    variables[assignment.group(1)] = assignment.group(2)
                    continue
                line = re.sub(r"\$\{?([A-Z_]+)\}?", lambda m: variables.get(m.group(1), m.group(0)), line)
                if line and not line.startswith("#") and comment.strip().startswith("needs") >= needing:
                    found.append((document.relative_to(REPO), line))
    return found


def split_command(line):
    """``(environment, argv)`` of a command line: leading ``NAME=value`` words are the environment."""
    words = shlex.split(line)
    env = {}
    while words and re.match(r"^[A-Z_]+=", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if words and words[0] == "time":
        words.pop(0)
    return env, words


COMMANDS = commands()


@pytest.mark.parametrize("document, line", COMMANDS, ids=[f"{d}: {c}"[:90] for d, c in COMMANDS])
def test_every_documented_command_is_valid(document, line, tmp_path):
    env, argv = split_command(line)
    for part in " ".join(argv).split(" && "):
        words = part.split()
        if words[:1] == ["python"] and len(words) > 1 and words[1].endswith(".py"):
            assert (REPO / words[1]).exists(), f"{document}: {words[1]} does not exist"
        elif words[:1] == ["pynncomp"]:
            args = cli.build_parser().parse_args(words[1:])  # exits (fails the test) on a bad option
            assert getattr(args, "run", None) is not None, f"{document}: {part} names no command"


RUNNABLE = [(d, c) for d, c in COMMANDS if (d, c) not in commands(needing=True)
            and c.split()[0:1] == ["pynncomp"] and (c.split()[1] in READ_ONLY or c.split()[1:3] == ["data", "info"]
                                                   or c.split()[1] == "reproduce")]


@pytest.mark.parametrize("document, line", RUNNABLE, ids=[f"{d}: {c}"[:90] for d, c in RUNNABLE])
def test_every_documented_read_only_command_runs_on_the_committed_evidence(document, line, tmp_path):
    """Run from a folder that links to the repository's results/, so outputs land in the folder, not the repository."""
    (tmp_path / "results").symlink_to(REPO / "results")
    (tmp_path / "docs" / "figures").mkdir(parents=True)
    env, argv = split_command(line)
    if argv[1] == "reproduce" and "--dry-run" not in argv:
        argv.append("--dry-run")  # what it would run on the committed evidence, without training
    environment = dict(os.environ, **env, XDG_CACHE_HOME=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-m", "pynncomp", *argv[1:]], cwd=tmp_path, capture_output=True,
                            text=True, env=environment, timeout=300)
    assert result.returncode == 0, f"{document}: {line}\n{result.stdout}\n{result.stderr}"


# files outside the repository (case matters: docs/methods.md is the repository's own), and words
# about how the software was made rather than what it is
FORBIDDEN = re.compile(r"METHODS\.md|METHODS §|STYLE\.md|(?i:\bsession\b|development machine|quality bar|\bissue \d)")


def test_nothing_refers_outside_the_repository_or_to_how_it_was_developed():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    found = []
    for name in tracked:
        path = REPO / name
        if path.suffix not in (".py", ".md", ".h", ".c", ".txt", ".toml", ".cfg", "") or not path.is_file():
            continue
        for number, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if FORBIDDEN.search(text) and name != "tests/test_docs.py":
                found.append(f"{name}:{number}: {text.strip()[:100]}")
    assert found == []
