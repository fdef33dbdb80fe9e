"""README.md agrees with the repository: its two commands, the `site` tool's help, and its links.

Fast and offline: reads README.md, runs `site --help` and each subcommand's `--help` (conftest's
`site_bin`, so $SITE_BIN is honoured), and looks at files. Nothing is started or fetched.

- The first ```sh block holds exactly the two commands, `scripts/run` and `scripts/test`, each as
  `COMMAND  # comment` (scripts/fresh-check and test_journey.py read them from there).
- Every long option a help text lists appears in the README, and every `site <subcommand> --option`
  the README writes in code is one that subcommand's help lists.
- Every relative link and image points at a file in the repository, and every `#anchor` at a
  heading. docs/screenshots/*.png are made from the browser journey test and committed apart."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import unicodedata
import urllib.parse
from pathlib import Path

import pytest

from conftest import REPO

README = REPO / "README.md"
SCREENSHOTS = ("docs/screenshots/library.png", "docs/screenshots/player.png")
FENCE = re.compile(r"^(`{3,}|~{3,})([^\n`]*)\n(.*?)^\1[ \t]*$", re.S | re.M)


# -- reading the README ------------------------------------------------------------------------------

@functools.cache
def readme() -> str:
    return README.read_text(encoding="utf-8")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced code block as (info string, body), in order."""
    return [(match.group(2).strip(), match.group(3)) for match in FENCE.finditer(text)]


def without_fences(text: str) -> str:
    """The text with every fenced code block blanked out (line count kept)."""
    return FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text)


def inline_code(text: str) -> list[str]:
    """The contents of every inline code span outside fenced blocks, line breaks as spaces."""
    spans = re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", without_fences(text), re.S)
    return [" ".join(match.group(2).split()) for match in spans]


def prose(text: str) -> str:
    """The text outside fenced blocks and inline code: where links live."""
    return re.sub(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", " ", without_fences(text), flags=re.S)


def code_lines(text: str) -> list[str]:
    """Every line of every fenced block, and every inline code span: where commands are written."""
    lines = [line for _, body in fenced_blocks(text) for line in body.splitlines()]
    return lines + inline_code(text)


def mentions(text: str, option: str) -> bool:
    """True when `option` (`--env`) appears in `text` as a whole option, not as the start of another."""
    return re.search(re.escape(option) + r"(?![A-Za-z0-9-])", text) is not None


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lowercase, punctuation removed, spaces → `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = text.replace("`", "").strip().lower()
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor, with GitHub's -1, -2 … for repeated ones."""
    seen: dict[str, int] = {}
    result = set()
    for match in re.finditer(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", without_fences(text), re.M):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(text: str) -> list[tuple[str, str, bool]]:
    """Every link and image target in the prose as (target, text or alt, is an image)."""
    body = prose(text)
    found = [(m.group(3), m.group(2), m.group(1) == "!")
             for m in re.finditer(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", body)]
    found += [(m.group(2), m.group(1), False) for m in re.finditer(r"^\s{0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s|$)", body, re.M)]
    found += [(m.group(2), "", m.group(1) == "img")
              for m in re.finditer(r"<(img|a)\s[^>]*?(?:src|href)=\"([^\"]+)\"", body, re.I)]
    return found


def is_external(target: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) is not None or target.startswith("//")


def local_path(target: str) -> str:
    """A relative link's file path, without its #fragment or ?query, percent-decoded."""
    return urllib.parse.unquote(re.split(r"[#?]", target, maxsplit=1)[0])


# -- reading the help --------------------------------------------------------------------------------

@functools.cache
def help_text(binary: Path, *command: str) -> str:
    """`site COMMAND --help`, which must succeed."""
    result = subprocess.run([str(binary), *command, "--help"], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 0, f"`site {' '.join(command)} --help` exited {result.returncode}:\n{result.stderr}"
    return result.stdout


def section(help: str, title: str) -> list[str]:
    """The lines of a help section (`OPTIONS:`, `SUBCOMMANDS:`) up to the next section."""
    lines = help.splitlines()
    try:
        start = lines.index(f"{title}:") + 1
    except ValueError:
        return []
    end = next((i for i in range(start, len(lines)) if re.match(r"^[A-Z][A-Z ]*:$", lines[i])), len(lines))
    return lines[start:end]


def subcommands(binary: Path) -> list[str]:
    """The subcommands `site --help` lists (argument-parser's `help` is not one of them)."""
    names = [m.group(1) for line in section(help_text(binary), "SUBCOMMANDS")
             if (m := re.match(r"^  ([a-z][a-z0-9-]*)(?:\s{2,}|$)", line))]
    assert names, "`site --help` lists no subcommands"
    return names


def long_options(help: str) -> list[str]:
    """The long options an OPTIONS section lists, one per entry (not those named in descriptions)."""
    return [m.group(1) for line in section(help, "OPTIONS")
            if (m := re.match(r"^  (?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)", line))]


def commands(binary: Path) -> list[tuple[str, ...]]:
    """`site` itself and each subcommand, as argument tuples."""
    return [()] + [(name,) for name in subcommands(binary)]


INVOCATION = re.compile(r"(?<![\w.-])(?:[\w.-]*/)*site[ \t]+(?P<word>[a-z][a-z0-9-]*)\b(?P<rest>.*)")


def without_comment(line: str) -> str:
    """A line of code without its shell or YAML `# comment`."""
    return re.split(r"(?:^|(?<=\s))#", line, maxsplit=1)[0]


def invocations(line: str) -> list[tuple[str, str]]:
    """Each `site WORD …` in a line of code (its comment left out) as (WORD, its arguments up to the
    end of that command)."""
    found = []
    for match in INVOCATION.finditer(without_comment(line)):
        rest = re.split(r"#|&&|\|\||;|\||`|\)", match.group("rest"), maxsplit=1)[0]
        found.append((match.group("word"), rest))
        found += invocations(match.group("rest"))
        break
    return found


# -- (a) the two commands ----------------------------------------------------------------------------

def test_the_first_code_block_is_sh_and_holds_exactly_the_two_commands():
    blocks = fenced_blocks(readme())
    assert blocks, "README.md has no code block"
    info, body = blocks[0]
    assert info == "sh", f"the first code block must be ```sh (scripts/fresh-check reads it); it is ```{info}"
    lines = [line for line in body.splitlines() if line.strip()]
    shapes = [re.fullmatch(r"(\S+(?: \S+)*)\s+# \S.*", line) for line in lines]
    assert all(shapes), f"each line must be `COMMAND  # comment`: {lines}"
    assert [shape.group(1) for shape in shapes] == ["scripts/run", "scripts/test"]


@pytest.mark.parametrize("script", ["scripts/run", "scripts/test"])
def test_each_command_is_an_executable_file(script):
    path = REPO / script
    assert path.is_file(), f"{script} does not exist"
    assert os.access(path, os.X_OK), f"{script} is not executable"


def test_ci_runs_the_second_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^exec bash scripts/test\s*$", ci, re.M), ".ci/run should run exactly `scripts/test`"


# -- (b) the help and the README ---------------------------------------------------------------------

def test_every_subcommand_appears_in_the_readme(site_bin):
    code = "\n".join(code_lines(readme()))
    missing = [name for name in subcommands(site_bin) if not re.search(rf"\bsite {re.escape(name)}\b", code)]
    assert not missing, f"subcommands the README never shows as `site NAME`: {missing}"


def test_every_long_option_the_help_lists_appears_in_the_readme(site_bin):
    text = readme()
    missing = {}
    for command in commands(site_bin):
        options = long_options(help_text(site_bin, *command))
        assert options, f"`site {' '.join(command)} --help` lists no options"
        absent = [option for option in options if not mentions(text, option)]
        if absent:
            missing[" ".join(("site",) + command)] = absent
    assert not missing, f"options the help lists and the README does not mention: {missing}"


def test_every_site_option_the_readme_writes_is_in_that_subcommands_help(site_bin):
    known = {name: set(long_options(help_text(site_bin, name))) for name in subcommands(site_bin)}
    wrong, unknown, seen = [], [], 0
    for line in code_lines(readme()):
        for word, rest in invocations(line):
            if word == "help":
                name = rest.split()[0] if rest.split() else ""
                if name not in known:
                    unknown.append(f"site help {name}: in `{line.strip()}`")
                continue
            if word not in known:
                # A command line (or a workflow's `- run:`) that starts with `site WORD` must name a
                # subcommand; `site WORD` inside a sentence is not a command.
                if re.match(r"^\s*(?:-\s+run:\s+)?(?:[A-Z_]+=\S+\s+)*(?:[\w.-]*/)*site[ \t]", line):
                    unknown.append(f"site {word}: in `{line.strip()}`")
                continue
            seen += 1
            for option in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest):
                if option not in known[word]:
                    wrong.append(f"site {word} {option}: in `{line.strip()}`")
    assert seen, "the README writes no `site SUBCOMMAND …` in code"
    assert not unknown, "subcommands the tool does not have:\n" + "\n".join(unknown)
    assert not wrong, "options the subcommand's help does not list:\n" + "\n".join(wrong)


def test_every_variable_and_stack_output_site_build_names_appears_in_the_readme(site_bin):
    help = help_text(site_bin, "build")
    names = set(re.findall(r"\bSITE_[A-Z_]+[A-Z]\b", help))
    names |= {m.group(1) for m in re.finditer(r"^  ([A-Z][A-Za-z]+) → ", help, re.M)}
    assert len(names) > 10, f"`site build --help` names too few variables and outputs: {sorted(names)}"
    missing = sorted(name for name in names if not re.search(rf"(?<![\w]){name}(?![\w])", readme()))
    assert not missing, f"named by `site build --help` but not in the README: {missing}"


# -- (c) links ---------------------------------------------------------------------------------------

def test_every_relative_link_and_image_points_at_a_file():
    broken = []
    for target, _, _ in links(readme()):
        if is_external(target) or target.startswith("#"):
            continue
        path = local_path(target)
        if path in SCREENSHOTS:
            continue  # test_the_screenshots_are_shown_and_exist
        if not (README.parent / path).exists():
            broken.append(target)
    assert not broken, f"links to files that do not exist: {broken}"


def test_the_screenshots_are_shown_and_exist():
    images = {local_path(target): alt for target, alt, image in links(readme()) if image and not is_external(target)}
    for screenshot in SCREENSHOTS:
        assert screenshot in images, f"README.md shows no image {screenshot}"
        assert images[screenshot].strip(), f"the image {screenshot} has no alt text"
        assert (README.parent / screenshot).is_file(), \
            f"{screenshot} does not exist (it is made from the browser journey test's screenshots)"


def test_every_anchor_link_names_a_heading():
    headings = anchors(readme())
    broken = [target for target, _, _ in links(readme())
              if target.startswith("#") and target[1:] not in headings]
    assert not broken, f"links to headings that do not exist: {broken}"


# -- the readers themselves --------------------------------------------------------------------------

def test_slugs_follow_githubs_rules():
    assert slug("`site cloud` — the local cloud") == "site-cloud--the-local-cloud"
    assert slug("The video service's Lambda functions (`bootstrap`)") == "the-video-services-lambda-functions-bootstrap"
    assert slug("Sessions: what is stored, and the threat model") == "sessions-what-is-stored-and-the-threat-model"


def test_invocations_are_cut_at_the_end_of_each_command():
    line = "site build --env production && .build/release/site publish --env production --dry-run   # see the plan"
    assert invocations(line) == [("build", " --env production "), ("publish", " --env production --dry-run   ")]
    assert invocations("AWS_REGION=eu-west-1 .build/release/site build --stack video") == [("build", " --stack video")]
    assert invocations("dist/.site/manifest.json and site.yml") == []
