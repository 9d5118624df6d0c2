#!/usr/bin/env python3
"""Gather the workflows quoted in upstream Attune's docs as data files.

Usage: scripts/gather-upstream-docs.py UPSTREAM_GIT_DIR [COMMIT]

Reads every docs/**/*.md of the upstream repository (a git directory, e.g.
a mirror) at COMMIT (default HEAD), takes each fenced ```yaml block that
has a top-level `tasks:` line (a workflow, or a graph-only file), and
writes it to tests/corpus/upstream/docs/<md path with / as __>--<n>.yaml,
with upstream's LICENSE beside them and SOURCE naming the commit. Only
data is copied. Re-running replaces the folder's content.
"""
import os, re, subprocess, sys, shutil

def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True,
                          capture_output=True).stdout

def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    gitdir = sys.argv[1]
    commit = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    sha = git(gitdir, "rev-parse", commit).decode().strip()
    out = os.path.join(os.path.dirname(__file__), "..", "tests", "corpus", "upstream")
    docs = os.path.join(out, "docs")
    shutil.rmtree(docs, ignore_errors=True)
    os.makedirs(docs)
    with open(os.path.join(out, "LICENSE"), "wb") as f:
        f.write(git(gitdir, "show", f"{sha}:LICENSE"))
    names = git(gitdir, "ls-tree", "-r", "--name-only", sha, "docs").decode().split("\n")
    count = 0
    for md in sorted(n for n in names if n.endswith(".md")):
        text = git(gitdir, "show", f"{sha}:{md}").decode("utf-8", "replace")
        blocks = re.findall(r"^```ya?ml[^\n]*\n(.*?)^```", text, re.S | re.M)
        n = 0
        for b in blocks:
            if not re.search(r"^tasks:", b, re.M):
                continue
            n += 1
            stem = md[len("docs/"):-len(".md")].replace("/", "__")
            with open(os.path.join(docs, f"{stem}--{n}.yaml"), "w") as f:
                f.write(b)
            count += 1
    with open(os.path.join(out, "SOURCE"), "w") as f:
        f.write(f"AndroxxTraxxon/attune {sha}\n"
                f"docs/**/*.md: every ```yaml block with a top-level `tasks:` line\n"
                f"({count} blocks), written by scripts/gather-upstream-docs.py.\n")
    print(f"{count} workflows from {sha}")
    return 0

sys.exit(main())
