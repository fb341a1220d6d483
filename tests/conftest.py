from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "anime-cartoon"


@pytest.fixture(scope="session")
def shared_data():
    """The shared dataset folder; tests that need it skip where it is absent."""
    if not (DATA / "manifest.csv").is_file():
        pytest.skip(f"the shared dataset is not at {DATA}")
    return DATA


def _write_folder(root, n=12):
    """A tiny labelled folder in the <label>/ layout, made of synthetic drawings."""
    from synth import anime, cartoon, encode, photo

    for label, make in (("anime", anime), ("cartoon", cartoon), ("photo", photo)):
        (root / label).mkdir(parents=True)
        for i in range(n):
            (root / label / f"{label}{i}.png").write_bytes(encode(make(seed=i)))
    return root


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    return _write_folder(tmp_path_factory.mktemp("tiny") / "data")


@pytest.fixture(scope="session")
def tiny_model_path(tiny_folder, tmp_path_factory):
    """A model trained (quickly, no search) on the tiny synthetic folder."""
    from animefeat.training import train

    model = train(tiny_folder, name="tiny", version="0", search=False, augment=False,
                  progress=False)
    return model.save(tmp_path_factory.mktemp("model") / "tiny.skops")
