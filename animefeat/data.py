"""Labelled image folders: the shared dataset layout, or plain ``<label>/*`` sub-folders."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from .exceptions import AnimefeatError

__all__ = ["IMAGE_SUFFIXES", "KNOWN_LABELS", "LABELS", "Dataset", "check_labels",
           "iter_image_files", "read_dataset"]

LABELS = ("anime", "cartoon")
#: Every label a dataset may hold: the two styles, and photographs for the drawing check.
KNOWN_LABELS = (*LABELS, "photo")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class Dataset:
    """A labelled image folder.

    Attributes
    ----------
    root : Path
        The folder.
    paths : list of Path
        One image file per row.
    labels : list of str
        ``"anime"``, ``"cartoon"`` or ``"photo"``.
    sources : list of str
        Source of each image (the manifest's ``source``; ``"default"`` without one).
    manifest_sha256 : str
        Hash of ``manifest.csv`` (or of the sorted file list), to record what was trained on.
    """

    root: Path
    paths: list
    labels: list
    sources: list
    manifest_sha256: str

    def subset(self, keep):
        """The rows where ``keep`` (a sequence of bool) is true."""
        rows = [i for i, k in enumerate(keep) if k]
        return Dataset(self.root, [self.paths[i] for i in rows], [self.labels[i] for i in rows],
                       [self.sources[i] for i in rows], self.manifest_sha256)

    def __len__(self):
        return len(self.paths)


def read_dataset(root, *, unknown_labels="error"):
    """Read a labelled folder: ``manifest.csv`` if present, else ``<label>/*`` sub-folders.

    Parameters
    ----------
    root : str or Path
        A folder laid out like ``../shared/datasets/anime-cartoon`` (``manifest.csv`` with
        columns path, label, source), or holding one sub-folder per label.
    unknown_labels : {"error", "drop"}
        What a label outside :data:`KNOWN_LABELS` (a ``manga/`` folder, say) does:
        raise :class:`AnimefeatError` naming it, or leave its images out.

    Returns
    -------
    dataset : Dataset

    Raises
    ------
    AnimefeatError
        Not a folder, no images, a manifest without path and label, or unknown labels.
    """
    if unknown_labels not in ("error", "drop"):
        raise ValueError(f"unknown_labels must be 'error' or 'drop', got {unknown_labels!r}")
    dataset = _read(Path(root))
    if unknown_labels == "drop":
        return dataset.subset([label in KNOWN_LABELS for label in dataset.labels])
    check_labels(dataset.labels, where=f"{str(root)!r} holds ")
    return dataset


def check_labels(labels, *, where=""):
    """Refuse labels other than :data:`KNOWN_LABELS`, naming them.

    A label the trainer does not know must not silently train as something else (a
    ``manga/`` folder as photographs, say).

    Parameters
    ----------
    labels : sequence of str
    where : str
        What the message says holds them (``"'data/' holds "``).

    Raises
    ------
    AnimefeatError
    """
    unknown = sorted(set(map(str, labels)) - set(KNOWN_LABELS))
    if unknown:
        raise AnimefeatError(
            f"{where}unknown labels {unknown}: animefeat knows {list(KNOWN_LABELS)}; rename "
            "those folders or rows, or drop them (read_dataset(..., unknown_labels='drop'), "
            "`animefeat train --drop-unknown-labels`)")


def _read(root):
    if not root.is_dir():
        raise AnimefeatError(f"{str(root)!r} is not a folder")
    manifest = root / "manifest.csv"
    if manifest.is_file():
        raw = manifest.read_bytes()
        with manifest.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        missing = {"path", "label"} - set(rows[0] if rows else {})
        if missing:
            raise AnimefeatError(f"{manifest} lacks the columns {sorted(missing)}")
        return Dataset(
            root,
            [root / r["path"] for r in rows],
            [r["label"] for r in rows],
            [r.get("source") or "default" for r in rows],
            hashlib.sha256(raw).hexdigest(),
        )
    paths, labels = [], []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in iter_image_files([label_dir]):
            paths.append(path)
            labels.append(label_dir.name)
    if not paths:
        raise AnimefeatError(f"{str(root)!r} has no manifest.csv and no <label>/ image folders")
    listing = "\n".join(str(p.relative_to(root)) for p in paths).encode()
    return Dataset(root, paths, labels, ["default"] * len(paths),
                   hashlib.sha256(listing).hexdigest())


def iter_image_files(paths, *, pattern="*"):
    """Yield image files: files as given, folders searched recursively, sorted.

    Parameters
    ----------
    paths : iterable of str or Path
    pattern : str
        Glob that file names inside folders must match.
    """
    for path in map(Path, paths):
        if path.is_dir():
            for child in sorted(path.rglob(pattern)):
                if child.is_file() and child.suffix.lower() in IMAGE_SUFFIXES:
                    yield child
        else:
            yield path
