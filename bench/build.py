#!/usr/bin/env python3
"""Compare `site build` with Hugo on the same generated N-page markdown site.

Usage: bench/build.py [--sizes 1000,10000] [--runs 5] [--site-binary PATH] [--work DIR]

For each size it writes the same seeded content as our project layout (<work>/site-N) and as a Hugo
site (<work>/hugo-N), builds each to check it works, then times `runs` alternating rebuilds of each
(previous output present) and `runs` alternating clean builds (previous output removed first):
wall time, CPU time and peak RSS of the child process, from wait4. It checks our .gz files against
`gzip -9 -n`, and prints a table per kind of build and whether the targets hold. It exits 1 only
when a build fails; missed targets are reported, not fatal.
"""
import benchlib  # noqa: I001  (first: runs this benchmark on .venv/bin/python)
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib import REPO, at_most, median, verdict

TARGETS = {"wall": 0.5, "rss": 0.5, "gzip": 1.01}

OUR_LAYOUT = """<!doctype html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<title>{{title}} · {{site.title}}</title>
<link rel="stylesheet" href="/assets/css/style.css">
</head>
<body>
<main>{{{content}}}</main>
<script type="module" src="/assets/js/main.js"></script>
</body>
</html>
"""

HUGO_SINGLE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ .Title }} · {{ .Site.Title }}</title>
{{ $css := resources.Get "css/style.css" | fingerprint "sha384" }}<link rel="stylesheet" href="{{ $css.RelPermalink }}" integrity="{{ $css.Data.Integrity }}">
</head>
<body>
<main>{{ .Content }}</main>
{{ $js := resources.Get "js/main.js" | fingerprint "sha384" }}<script type="module" src="{{ $js.RelPermalink }}" integrity="{{ $js.Data.Integrity }}"></script>
</body>
</html>
"""

HUGO_LIST = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><main>{{ .Content }}</main></body></html>
"""

HUGO_CONFIG = """baseURL = "/"
title = "Bench"
disableKinds = ["taxonomy", "term", "RSS", "sitemap"]
"""

CSS = "".join(f"""
.block-{k} {{
  margin: 0 auto {k * 2}px;
  padding: {k}px {k + 4}px;
  color: #{(k * 1234567) % 0xFFFFFF:06x};
  border-bottom: 1px solid rgba(0, 0, 0, 0.{k % 9 + 1});
}}
.block-{k}:hover {{ background: #f{k % 10}f{k % 10}f{k % 10}; }}
""" for k in range(12)) + """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem; }
pre, code { font-family: ui-monospace, monospace; background: #f6f8fa; }
pre { padding: 0.75rem; overflow-x: auto; border-radius: 4px; }
"""

JS = """// Marks external links and numbers the headings of the page.
const links = document.querySelectorAll('main a[href^="http"]');
for (const link of links) {
  link.rel = 'noopener';
  link.classList.add('external');
}

function numberHeadings(root) {
  let count = 0;
  for (const heading of root.querySelectorAll('h2')) {
    count += 1;
    heading.dataset.number = String(count);
    heading.id = heading.id || `section-${count}`;
  }
  return count;
}

const total = numberHeadings(document.querySelector('main') ?? document.body);
document.documentElement.dataset.sections = String(total);

document.addEventListener('keydown', (event) => {
  if (event.key === 't' && event.altKey) toggleTheme();
});

export function toggleTheme() {
  const dark = document.documentElement.classList.toggle('dark');
  localStorage.setItem('theme', dark ? 'dark' : 'light');
  return dark;
}
"""

WORDS = """system build page static site content render layout markdown asset template cache output
index folder version request stream video library upload player policy header browser script style
server client network storage compress digest manifest language publish deploy option default value
quickly simply often always rarely carefully every other some many each first last small large new""".split()
CODE = {
    "swift": ["let value = items.map {{ $0 * {n} }}", "func step{n}(_ x: Int) -> Int {{ x + {n} }}",
              "guard let path = paths[{n}] else {{ return }}", "print(\"done: \\(count) of {n}\")"],
    "python": ["total = sum(x * {n} for x in values)", "def step{n}(x):\n    return x + {n}",
               "if len(paths) > {n}:\n    paths.pop()", "print(f'done: {{count}} of {n}')"],
    "bash": ["ls -la /tmp/dir{n} | wc -l", "for f in *.md; do echo \"$f\"; done",
             "export JOBS={n}", "tar czf out{n}.tgz build/"],
}


def words(rng, count):
    """Plain words with some **bold**, *emphasis*, `code` and links sprinkled in."""
    out = []
    for _ in range(count):
        w = rng.choice(WORDS)
        roll = rng.random()
        if roll < 0.04:
            w = f"**{w}**"
        elif roll < 0.08:
            w = f"*{w}*"
        elif roll < 0.11:
            w = f"`{w}_{rng.randint(1, 99)}`"
        elif roll < 0.13:
            w = f"[{w}](https://example.com/{w}/{rng.randint(1, 999)})"
        out.append(w)
    return out


def paragraph(rng, n):
    """A paragraph of 40-120 words in sentences, with one internal link to another post."""
    text = words(rng, rng.randint(40, 120))
    other = rng.randint(1, n)
    text.insert(rng.randrange(len(text)), f"[see post {other}](/posts/p{other}/)")
    sentences, i = [], 0
    while i < len(text):
        size = rng.randint(8, 16)
        chunk = " ".join(text[i:i + size])
        sentences.append(chunk[0].upper() + chunk[1:] + ".")
        i += size
    return " ".join(sentences)


def page_body(rng, n):
    """The markdown body of one post: 3-6 sections with paragraphs, lists and a code block."""
    parts = []
    for s in range(rng.randint(3, 6)):
        parts.append(f"## {' '.join(rng.sample(WORDS, 3)).capitalize()} {s + 1}")
        parts.append(paragraph(rng, n))
        if s % 2 == 0:
            parts.append("\n".join(f"- {' '.join(words(rng, rng.randint(3, 9)))}" for _ in range(rng.randint(3, 5))))
        else:
            parts.append("\n".join(f"{k + 1}. {' '.join(words(rng, rng.randint(3, 9)))}" for k in range(rng.randint(3, 5))))
        if s < 2:
            lang = rng.choice(sorted(CODE))
            lines = [rng.choice(CODE[lang]).format(n=rng.randint(1, 99)) for _ in range(rng.randint(3, 6))]
            # No info string: Hugo would syntax-highlight a tagged fence (Chroma, ~2x its build time)
            # while `site` does not highlight, so the fence is left untagged to compare like with like.
            parts.append("```\n" + "\n".join(lines) + "\n```")
    return "\n\n".join(parts) + "\n"


def write(path, text):
    """Writes text to path, creating its folders."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def generate(work, n):
    """Writes <work>/site-N and <work>/hugo-N afresh with the same seeded pages; returns both roots."""
    ours, hugo = os.path.join(work, f"site-{n}"), os.path.join(work, f"hugo-{n}")
    for root in (ours, hugo):
        shutil.rmtree(root, ignore_errors=True)
    write(f"{ours}/site/site.yml", "title: Bench\nlanguages: [en]\n")
    write(f"{ours}/site/layouts/page.mustache", OUR_LAYOUT)
    write(f"{hugo}/config.toml", HUGO_CONFIG)
    write(f"{hugo}/layouts/_default/single.html", HUGO_SINGLE)
    write(f"{hugo}/layouts/_default/list.html", HUGO_LIST)
    write(f"{hugo}/layouts/index.html", HUGO_LIST)
    for root in (f"{ours}/assets", f"{hugo}/assets"):
        write(f"{root}/css/style.css", CSS)
        write(f"{root}/js/main.js", JS)
    rng = random.Random(20240 + n)
    for i in range(1, n + 1):
        body = page_body(rng, n)
        write(f"{ours}/site/pages/posts/p{i}.md", f"---\ntitle: Post {i}\n---\n{body}")
        write(f"{hugo}/content/posts/p{i}.md", f'---\ntitle: "Post {i}"\n---\n{body}')
    return ours, hugo


def commands(site_binary, ours, hugo):
    """The build command of each tool, by name."""
    return {
        "site": [site_binary, "build", "--quiet", "--site", ours],
        "hugo": ["hugo", "--quiet", "-s", hugo, "-d", os.path.join(hugo, "public")],
    }


def measure(cmd):
    """Runs cmd as a child; returns (wall s, CPU s, peak RSS MiB) from its own rusage. Exits on failure."""
    os.sync()  # flush the previous build's writes so their writeback is not timed here
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"error: `{' '.join(cmd)}` exited with {proc.returncode}:\n"
                     + err.read().decode(errors="replace"))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def check_output(name, folder, n):
    """Exits unless every posts/p{i}/index.html exists under folder."""
    missing = [i for i in range(1, n + 1) if not os.path.isfile(f"{folder}/posts/p{i}/index.html")]
    if missing:
        sys.exit(f"error: {name} wrote {n - len(missing)} of {n} post pages into {folder} "
                 f"(first missing: posts/p{missing[0]}/index.html)")


def gzip_check(dist):
    """Sum of our .gz sizes vs `gzip -9 -n` of the same originals (one gzip -r over a copied tree)."""
    ours, originals = 0, []
    for folder, _, files in os.walk(dist):
        for name in files:
            if name + ".gz" in files:
                ours += os.path.getsize(os.path.join(folder, name + ".gz"))
                originals.append(os.path.relpath(os.path.join(folder, name), dist))
    if not originals:
        return 0, 0, float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        for rel in originals:
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
            shutil.copyfile(os.path.join(dist, rel), os.path.join(tmp, rel))
        subprocess.run(["gzip", "-9", "-n", "-r", tmp], check=True)
        reference = sum(os.path.getsize(os.path.join(tmp, rel + ".gz")) for rel in originals)
    return ours, reference, ours / reference


def time_alternately(cmds, runs, before=None):
    """Times `runs` alternating builds of each tool; `before(name)` runs untimed ahead of each."""
    samples = {name: [] for name in cmds}
    for r in range(runs):
        for name, cmd in cmds.items():
            if before:
                before(name)
            samples[name].append(measure(cmd))
        print(f"   run {r + 1}/{runs}: " + ", ".join(f"{k} {v[-1][0]:.2f}s" for k, v in samples.items()),
              file=sys.stderr)
    return {name: (median(s[0] for s in runs_),
                   median(s[1] for s in runs_),
                   max(s[2] for s in runs_)) for name, runs_ in samples.items()}


def bench_size(site_binary, work, n, runs):
    """Generates, warms up, times (rebuilds, then clean builds) and gzip-checks one size."""
    print(f"\n== {n} pages: generating…", file=sys.stderr)
    ours, hugo = generate(work, n)
    cmds = commands(site_binary, ours, hugo)
    for name, cmd in cmds.items():
        print(f"   warm-up {name}…", file=sys.stderr)
        measure(cmd)
        measure(cmd)  # twice: site keeps the build before last to update in place
    check_output("site", f"{ours}/dist", n)
    check_output("hugo", f"{hugo}/public", n)
    print("   rebuilds (previous output present):", file=sys.stderr)
    rebuild = time_alternately(cmds, runs)
    print("   clean builds (no previous output):", file=sys.stderr)
    clean = time_alternately(cmds, runs, before=lambda name: benchlib.clean_outputs(name, ours if name == "site" else hugo))
    return {"rebuild, previous output present": rebuild, "clean build, no previous output": clean}, \
        gzip_check(f"{ours}/dist")


def report(n, runs, results, gz):
    """Prints a table per kind of build, the gzip line and the verdict for one size."""
    checks = []
    for kind, stats in results.items():
        site, hugo = stats["site"], stats["hugo"]
        ratio = [a / b for a, b in zip(site, hugo)]
        print(f"\n{n} pages, {kind}, {runs} runs (median wall, median CPU, max peak RSS)")
        print(f"{'':<11}{'wall s':>10}{'CPU s':>10}{'RSS MiB':>10}")
        for name, (w, c, m) in (("site", site), ("hugo", hugo)):
            print(f"{name:<11}{w:>10.3f}{c:>10.3f}{m:>10.1f}")
        print(f"{'site/hugo':<11}{ratio[0]:>10.2f}{ratio[1]:>10.2f}{ratio[2]:>10.2f}")
        checks += [at_most(f"{kind.split(',')[0]} wall", ratio[0], TARGETS["wall"]),
                   at_most(f"{kind.split(',')[0]} RSS", ratio[2], TARGETS["rss"])]
    print(f"gzip: ours {gz[0]:,} B, gzip -9 -n {gz[1]:,} B, ratio {gz[2]:.4f}")
    checks.append(at_most("gzip", gz[2], TARGETS["gzip"]))
    print(verdict(checks, f"verdict {n}"))


def main():
    """Parses options, sets up the tools, and benchmarks each size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated page counts (default 1000,10000)")
    parser.add_argument("--runs", type=int, default=5, help="timed builds per tool and size (default 5)")
    benchlib.add_site_binary_option(parser)
    parser.add_argument("--work", default=os.path.join(REPO, "bench", "out"), help="work folder (default bench/out)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # keep the table in order with progress on stderr
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.runs < 1 or not sizes or min(sizes) < 1:
        parser.error("--runs and every size must be at least 1")

    benchlib.install_deps("bench")
    site_binary = benchlib.site_binary(args.site_binary)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)

    hugo_version = subprocess.run(["hugo", "version"], capture_output=True, text=True, check=True).stdout.strip()
    site_version = (subprocess.run([site_binary, "--version"], capture_output=True, text=True).stdout
                    .strip().split("\n")[0])
    print(f"nproc: {len(os.sched_getaffinity(0))}")
    print(f"hugo: {hugo_version}")
    print(f"site: {site_binary} {site_version}")
    for n in sizes:
        results, gz = bench_size(site_binary, work, n, args.runs)
        report(n, args.runs, results, gz)


if __name__ == "__main__":
    main()
