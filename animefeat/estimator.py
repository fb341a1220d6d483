"""``FeatureExtractor``: the feature families as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .exceptions import AnimefeatError
from .features import _resolve, extract_features, feature_names
from .preprocess import WORK_SIDE, load_for_features

__all__ = ["FeatureExtractor"]


class FeatureExtractor(TransformerMixin, BaseEstimator):
    """Turn images into rows of structural features.

    Parameters
    ----------
    families : sequence of str, optional
        Feature families to compute (see ``animefeat.features.FAMILIES``); all by default.
    side : int
        Long side of the working copy, in pixels.
    n_jobs : int, optional
        Parallel workers for :meth:`transform` (joblib semantics: -1 uses all cores).
    on_error : {"raise", "nan"}
        What an image that cannot be loaded does: raise its ``AnimefeatError``, or
        become a row of NaN (so one bad file does not stop a batch).

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Names of the output columns, ``"family.feature"``.
    n_features_out_ : int
        Number of output columns.

    Examples
    --------
    >>> import numpy as np
    >>> from animefeat import FeatureExtractor
    >>> images = [np.full((64, 64, 3), 255, np.uint8)]
    >>> FeatureExtractor(families=["colour"]).fit_transform(images).shape
    (1, 14)
    """

    def __init__(self, families=None, *, side=WORK_SIDE, n_jobs=None, on_error="raise"):
        self.families = families
        self.side = side
        self.n_jobs = n_jobs
        self.on_error = on_error

    def fit(self, X=None, y=None):
        """Validate the parameters; the extractor learns nothing from data.

        Parameters
        ----------
        X : sequence of images, optional
            Ignored.
        y : ignored

        Returns
        -------
        self : FeatureExtractor
        """
        if self.on_error not in ("raise", "nan"):
            raise ValueError(f"on_error must be 'raise' or 'nan', got {self.on_error!r}")
        _resolve(self.families)
        self.feature_names_out_ = np.asarray(feature_names(self.families), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def transform(self, X):
        """Compute the features of each image.

        Parameters
        ----------
        X : sequence of images
            Anything :func:`animefeat.load_image` accepts, one per row: paths, bytes,
            arrays of shape (H, W, 3), ...

        Returns
        -------
        features : ndarray of shape (n_images, n_features_out_), float64
        """
        check_is_fitted(self, "feature_names_out_")
        if isinstance(X, np.ndarray) and X.ndim == 3 and X.shape[-1] in (3, 4):
            raise ValueError("X looks like a single image; pass a list of images")
        images = list(X)
        if len(images) < 2 or self.n_jobs in (None, 1):
            rows = [self._one(image) for image in images]
        else:
            rows = Parallel(n_jobs=self.n_jobs)(delayed(self._one)(im) for im in images)
        return np.asarray(rows, dtype=np.float64).reshape(len(images), self.n_features_out_)

    def _one(self, image):
        try:
            rgb = load_for_features(image, side=self.side)
            return extract_features(rgb, families=self.families, side=self.side)
        except AnimefeatError:
            if self.on_error == "raise":
                raise
            return np.full(self.n_features_out_, np.nan)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : ignored
            Present for scikit-learn API compatibility; the inputs are images.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags
