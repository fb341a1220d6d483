"""03: the CNN peer: a small CNN trained from scratch on the same images and splits.

Typical of the public anime-vs-cartoon projects: four conv blocks at 128x128, random
flips, crops and colour jitter, Adam. Same grouped, stratified 5-fold CV and the same
leave-one-source-out as ``01_evaluate.py``, accuracy per source. Its CPU latency per
image (:func:`predict_one`: decode, resize, forward) is timed by ``05_benchmark.py``
on the same images as ours.

Needs torch (CPU build), which the library never does:

    pip install torch==2.13.0          # the CPU wheel; see the project README
    python experiments/03_cnn_peer.py [--epochs 15]
"""

import time

import numpy as np
from _common import Data, parser, write_json

import animefeat as af
from animefeat.training import metrics
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


def main():
    p = parser(__doc__)
    p.add_argument("--epochs", type=int, default=15)
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.jobs)
    started = time.time()
    data = Data(args)
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
    report = {"architecture": "4 conv blocks (16-32-64-128) + BN + ReLU + maxpool, GAP, "
                              "dropout, linear; 128x128 input",
              "epochs": args.epochs, "augmentation": "flip, random resized crop 80-100%, "
                                                      "brightness/contrast jitter",
              "cv": metrics(y, cv, src), "leave_one_source_out": metrics(y, loso, src),
              "torch": torch.__version__}
    write_json(args.out, "03_cnn_peer", report, started)


if __name__ == "__main__":
    main()
