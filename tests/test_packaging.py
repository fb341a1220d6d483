"""setup.cfg declares every folder the distribution ships, code and data alike."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return set(cfg["options"]["packages"].split()), cfg["options.package_data"]


def test_every_folder_of_the_package_is_declared():
    # A folder left out is missing from a non-editable install (the training package
    # was, once), or installed with setuptools' "importable folder" warning (_data).
    packages, _ = _declared()
    found = set()
    for root, mapped in (("animefeat", "animefeat"), ("web", "animefeat_web")):
        for folder in [ROOT / root, *(p for p in (ROOT / root).rglob("*") if p.is_dir())]:
            if "__pycache__" in folder.parts or not any(f.is_file() for f in folder.iterdir()):
                continue
            rel = folder.relative_to(ROOT / root).parts
            found.add(".".join((mapped, *rel)))
    assert found <= packages, sorted(found - packages)


def test_the_shipped_model_and_the_page_files_are_package_data():
    _, data = _declared()
    assert "*.skops" in data["animefeat._data"] and "*.json" in data["animefeat._data"]
    assert data["animefeat_web.static"].strip() == "*"
    assert "*.html" in data["animefeat_web.templates"]
