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


@pytest.fixture(scope="session")
def local_folder(tmp_path_factory):
    """Four sources, each with anime and cartoon drawings, and a source of photos, in the
    manifest layout: enough sources for the combiner's whole-source folds."""
    from synth import anime, cartoon, encode, photo

    root = tmp_path_factory.mktemp("local") / "data"
    root.mkdir(parents=True)
    rows = ["path,label,source,group"]
    for s in range(4):
        for label, make in (("anime", anime), ("cartoon", cartoon)):
            for i in range(5):
                name = f"s{s}_{label}{i}.png"
                (root / name).write_bytes(encode(make(seed=100 * s + i)))
                rows.append(f"{name},{label},s{s},")
    for i in range(8):
        (root / f"photo{i}.png").write_bytes(encode(photo(seed=i)))
        rows.append(f"photo{i}.png,photo,snaps,")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="session")
def local_model_path(local_folder, tmp_path_factory):
    """A model with a local head (a 4-Gaussian codebook), trained on ``local_folder``."""
    from animefeat.training import train

    model = train(local_folder, name="tiny-local", version="0", search=False, augment=False,
                  progress=False, local={"n_components": 4, "pca_components": 16,
                                         "max_descriptors": 5000})
    return model.save(tmp_path_factory.mktemp("local-model") / "tiny-local.skops")
