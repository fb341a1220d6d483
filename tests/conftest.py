from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "anime-cartoon"


@pytest.fixture(scope="session")
def shared_data():
    """The shared dataset folder; tests that need it skip where it is absent."""
    if not (DATA / "manifest.csv").is_file():
        pytest.skip(f"the shared dataset is not at {DATA}")
    return DATA
