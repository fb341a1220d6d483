import csv
import io
import json

import numpy as np
import pytest
from synth import anime, cartoon, encode

from animefeat.cli import main


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    (tmp_path / "imgs" / "a.png").write_bytes(encode(anime(seed=200)))
    (tmp_path / "imgs" / "sub" / "c.png").write_bytes(encode(cartoon(seed=201)))
    (tmp_path / "imgs" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return tmp_path / "imgs"


def test_classify_folder_jsonl_with_error_row(folder, tiny_model_path, capsys):
    status = main(["classify", str(folder), "--format", "jsonl", "--model", str(tiny_model_path)])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 1  # one file failed
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in rows}
    assert set(by_name) == {"a.png", "c.png", "broken.jpg"}  # recursive, bad file kept
    assert "corrupt or truncated" in by_name["broken.jpg"]["error"]
    assert by_name["a.png"]["label"] == "anime" and by_name["c.png"]["label"] == "cartoon"


def test_classify_csv_to_file(folder, tiny_model_path, tmp_path):
    out = tmp_path / "out.csv"
    main(["classify", str(folder), "--glob", "*.png", "--format", "csv", "-o", str(out),
          "--model", str(tiny_model_path)])
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == ["a.png", "c.png"]
    assert all(r["error"] == "" and 0 <= float(r["p_anime"]) <= 1 for r in rows)


def test_classify_paths_from_stdin(folder, tiny_model_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{folder / 'a.png'}\n"))
    status = main(["classify", "-", "--model", str(tiny_model_path)])
    out = capsys.readouterr().out
    assert status == 0 and "anime" in out and "a.png" in out


def test_classify_parallel_matches_serial(folder, tiny_model_path, capsys):
    main(["classify", str(folder), "--format", "jsonl", "--model", str(tiny_model_path)])
    serial = capsys.readouterr().out
    main(["classify", str(folder), "--format", "jsonl", "-j", "2", "--model",
          str(tiny_model_path)])
    assert capsys.readouterr().out == serial


def test_extract_npz(folder, tmp_path):
    out = tmp_path / "f.npz"
    status = main(["extract", str(folder), "--glob", "*.png", "-o", str(out),
                   "--families", "colour"])
    z = np.load(out)
    assert status == 0 and z["X"].shape == (2, len(z["feature_names"]))
    assert str(z["feature_names"][0]).startswith("colour.")


def test_train_on_tiny_folder(tiny_folder, tmp_path, capsys):
    out = tmp_path / "m.skops"
    status = main(["train", str(tiny_folder), "--out", str(out), "--no-search"])
    summary = json.loads(capsys.readouterr().out)
    assert status == 0 and out.is_file() and out.with_suffix(".json").is_file()
    assert summary["metrics"]["cv"]["pooled"]["n"] == 24


def test_train_is_reproducible(tiny_folder, tmp_path, capsys):
    import animefeat as af

    for name in ("a", "b"):
        main(["train", str(tiny_folder), "--out", str(tmp_path / f"{name}.skops"),
              "--no-search", "--seed", "3"])
    cards = [json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab"]
    assert cards[0]["metrics"] == cards[1]["metrics"]
    # The zip container records its write time, so compare what the models do.
    probe = [anime(seed=210), cartoon(seed=211)]
    a, b = (af.classify_many(probe, model=tmp_path / f"{n}.skops") for n in "ab")
    assert [p.to_dict()["probabilities"] for p in a] == [p.to_dict()["probabilities"] for p in b]


def test_evaluate(tiny_folder, tiny_model_path, capsys):
    status = main(["evaluate", str(tiny_folder), "--model", str(tiny_model_path)])
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["pooled"]["n"] == 24 and report["failed"] == 0


def test_error_is_a_message_not_a_traceback(tmp_path, capsys):
    status = main(["train", str(tmp_path / "missing"), "--out", str(tmp_path / "m.skops")])
    assert status == 2
    assert "is not a folder" in capsys.readouterr().err


def test_classify_on_a_dask_cluster_matches_local(folder, tiny_model_path, capsys):
    pytest.importorskip("distributed", reason="the [dask] extra is not installed")
    main(["classify", str(folder), "--format", "jsonl", "--model", str(tiny_model_path)])
    local = capsys.readouterr().out
    status = main(["classify", str(folder), "--format", "jsonl", "--scheduler", "local",
                   "-j", "2", "--model", str(tiny_model_path)])
    assert status == 1 and capsys.readouterr().out == local


def test_scheduler_without_dask_is_a_clear_error(folder, tiny_model_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    status = main(["classify", str(folder), "--scheduler", "local", "--model",
                   str(tiny_model_path)])
    assert status == 2 and "[dask]" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_tampered_model_is_refused_before_any_work(folder, tiny_model_path, tmp_path, capsys,
                                                   jobs):
    import shutil

    bad = tmp_path / "bad.skops"
    shutil.copy(tiny_model_path, bad)
    shutil.copy(tiny_model_path.with_suffix(".json"), bad.with_suffix(".json"))
    with open(bad, "ab") as f:
        f.write(b"tampered")
    status = main(["classify", str(folder), "-j", jobs, "--model", str(bad)])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert "does not match the hash on its card" in captured.err


@pytest.fixture
def photo_model_path(tiny_model_path, tmp_path):
    """The tiny model with a photo check that flags every picture (threshold above 1)."""
    from animefeat.model import AnimefeatModel

    model = AnimefeatModel.load(tiny_model_path)
    model.drawing_threshold = 1.01
    return model.save(tmp_path / "photo-only.skops")


def test_a_photo_reads_photo_in_the_table_and_the_csv(folder, photo_model_path, tmp_path,
                                                     capsys):
    main(["classify", str(folder / "a.png"), "--model", str(photo_model_path)])
    line = capsys.readouterr().out.splitlines()[1]
    assert line.split()[0] == "PHOTO" and line.split()[2] == "no"
    out = tmp_path / "out.csv"
    main(["classify", str(folder / "a.png"), "--format", "csv", "-o", str(out),
          "--model", str(photo_model_path)])
    row = next(csv.DictReader(io.StringIO(out.read_text())))
    assert row["verdict"] == "PHOTO" and row["is_drawing"] == "False"
    assert row["confident"] == "False"


def test_the_csv_carries_the_verdict_and_whether_it_is_confident(folder, tiny_model_path,
                                                                 tmp_path):
    out = tmp_path / "out.csv"
    main(["classify", str(folder / "a.png"), "--format", "csv", "-o", str(out),
          "--model", str(tiny_model_path)])
    row = next(csv.DictReader(io.StringIO(out.read_text())))
    p = float(row["p_anime"])
    sure_from = max(0.65, json.loads(tiny_model_path.with_suffix(".json").read_text())
                    ["verdict"]["sure_from"])
    confident = max(p, 1 - p) >= sure_from
    assert row["confident"] == str(confident)
    if confident:
        assert row["verdict"] == ("Anime" if p >= 0.5 else "Cartoon")
    elif 0.35 < p < 0.65:
        assert row["verdict"].startswith("Not sure")
    else:
        assert row["verdict"].startswith("Probably")
