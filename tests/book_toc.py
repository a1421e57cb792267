"""Helpers shared by the book tests (test_book.py, test_site.py): read _config.yml and _toc.yml."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CACHE = ROOT / "_build" / ".jupyter_cache"


def load_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_files() -> list[str]:
    """Every page of _toc.yml (root first), as written there: a path without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


def source_of(page: str) -> Path | None:
    """The source file of a toc entry (``.ipynb`` or ``.md``), or None when it is missing."""
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{page}{suffix}"
        if path.is_file():
            return path
    return None


def colab_url(page: str) -> str:
    """The Colab launch URL of a notebook page, built from _config.yml (the one place set)."""
    config = load_config()
    repo = config["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    prefix = (config["repository"].get("path_to_book") or "").strip("/")
    prefix = f"{prefix}/" if prefix else ""
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    return f"{colab}/github/{repo}/blob/{branch}/{prefix}{page}.ipynb"
