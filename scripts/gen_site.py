#!/usr/bin/env python3
"""Generates a large Kirby site for benchmarks, deterministically from a seed.

Layout (defaults give 10,000 pages): 90 sections x 100 articles, plus an `archive` section
with 1,000 articles. Every article has ~2 KB of text and 10 fields. Blueprints, accounts and
config are copied from the conformance fixture (tests/fixtures/kirby/root), so the same
users, roles and options apply.

    python3 scripts/gen_site.py OUT [--sections 90] [--per-section 100] [--archive 1000] [--seed 42]
"""
import argparse
import os
import random
import shutil
import string

WORDS = (
    "harbour light keeper lamp lens tide fog horn buoy chart signal mooring pier quay net "
    "gull boat rope anchor storm wave shore sand salt wind north south east west night day "
    "log watch beacon tower mast sail hull deck current depth survey map reef rock bay"
).split()


def text(rng, n_words):
    words = [rng.choice(WORDS) for _ in range(n_words)]
    out, line = [], []
    for i, w in enumerate(words):
        line.append(w)
        if len(line) >= 12:
            out.append(" ".join(line).capitalize() + ".")
            line = []
        if i and i % 60 == 0:
            out.append("\n")
    if line:
        out.append(" ".join(line).capitalize() + ".")
    return " ".join(out).replace(" \n ", "\n\n")


def uuid(rng):
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(16))


def write(path, fields):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    parts = []
    for k, v in fields:
        parts.append(f"{k}:\n\n{v}" if "\n" in v else f"{k}: {v}")
    with open(path, "w") as f:
        f.write("\n\n----\n\n".join(parts))


def article(rng, path, title, day):
    write(path, [
        ("Title", title),
        ("Subtitle", text(rng, 8)),
        ("Date", f"2024-{1 + day % 12:02d}-{1 + day % 28:02d}"),
        ("Featured", rng.choice(["true", "false"])),
        ("Tags", ", ".join(rng.sample(WORDS, 3))),
        ("Category", rng.choice(["news", "guide", "story"])),
        ("Text", text(rng, 300)),
        ("Sources", "-\n  label: Notebook\n  url: https://example.org/notes"),
        ("Cover", ""),
        ("Uuid", uuid(rng)),
    ])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--sections", type=int, default=90)
    ap.add_argument("--per-section", type=int, default=100)
    ap.add_argument("--archive", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    here = os.path.dirname(os.path.abspath(__file__))
    fixture = os.path.join(here, "..", "tests", "fixtures", "kirby", "root")
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    content = os.path.join(a.out, "content")
    for sub in ["blueprints", "accounts", "config"]:
        shutil.copytree(os.path.join(fixture, "site", sub), os.path.join(a.out, "site", sub))
    write(os.path.join(content, "site.txt"), [("Title", "Benchmark Lighthouse"), ("Description", text(rng, 20))])
    write(os.path.join(content, "home", "home.txt"), [("Title", "Home"), ("Headline", "Benchmarks"), ("Uuid", uuid(rng))])
    write(os.path.join(content, "error", "error.txt"), [("Title", "Not found"), ("Uuid", uuid(rng))])
    n = 2
    for s in range(a.sections):
        sdir = os.path.join(content, f"{s + 1}_section-{s + 1:02d}")
        write(os.path.join(sdir, "blog.txt"), [("Title", f"Section {s + 1}"), ("Intro", text(rng, 10)), ("Uuid", uuid(rng))])
        n += 1
        for i in range(a.per_section):
            day = s * a.per_section + i
            article(rng, os.path.join(sdir, f"{20240000 + day}_article-{i + 1:03d}", "article.txt"), f"Article {s + 1}.{i + 1}", day)
            n += 1
    adir = os.path.join(content, f"{a.sections + 1}_archive")
    write(os.path.join(adir, "blog.txt"), [("Title", "Archive"), ("Uuid", uuid(rng))])
    n += 1
    for i in range(a.archive):
        article(rng, os.path.join(adir, f"{20200000 + i}_old-{i + 1:04d}", "article.txt"), f"Old entry {i + 1}", i)
        n += 1
    print(f"generated {n} pages in {a.out}")


if __name__ == "__main__":
    main()
