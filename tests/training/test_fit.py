"""train: labels it refuses or drops."""

import pytest
from synth import cartoon

from animefeat.data import check_labels, read_dataset
from animefeat.exceptions import AnimefeatError


def test_unknown_labels_are_refused_by_name():
    with pytest.raises(AnimefeatError, match="manga"):
        check_labels(["anime", "cartoon", "photo", "manga"])
    check_labels(["anime", "cartoon", "photo"])


def test_a_folder_of_unknown_label_is_refused_or_dropped_as_asked(tmp_path):
    from synth import encode

    for label in ("anime", "manga"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "a.png").write_bytes(encode(cartoon(seed=1)))
    with pytest.raises(AnimefeatError, match=r"unknown labels \['manga'\]"):
        read_dataset(tmp_path)
    assert read_dataset(tmp_path, unknown_labels="drop").labels == ["anime"]
