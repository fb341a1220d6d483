"""Learnt encoders of local descriptors: PCA, then a Fisher vector over a Gaussian mixture.

An image's patches (:func:`animefeat.features.local.dense_sift`) are a variable-sized set;
a linear classifier needs one vector. The Fisher vector (Perronnin et al. 2010) describes
the set by how its patches pull each Gaussian of a mixture learnt from training patches:
the mean and variance gradients, with the signed square root and L2 normalisation of the
"improved" Fisher vector. Before the normalisation it is an average of one term per
patch, so a linear score on it is a sum over patches: :meth:`FisherVectorEncoder.patch_terms`
gives each patch's share, which the explanation map draws.

The PCA and the mixture are learnt from data, so they live in this transformer and ship
inside the model; in evaluation they are refitted inside every fold.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

__all__ = ["FisherVectorEncoder"]


class FisherVectorEncoder(TransformerMixin, BaseEstimator):
    """Encode each image's local descriptors as one improved Fisher vector.

    Parameters
    ----------
    n_components : int
        Gaussians of the diagonal mixture (the codebook's size).
    pca_components : int or None
        Dimensions the descriptors are reduced to first (PCA, which also decorrelates
        them for the diagonal mixture); None keeps them as they are.
    max_descriptors : int
        Descriptors sampled from the training images to fit the PCA and the mixture.
    random_state : int
        Seed of the sampling, the PCA and the mixture.

    Attributes
    ----------
    pca_ : PCA or None
    gmm_ : GaussianMixture
    n_features_in_ : int
        Length of one descriptor.
    n_features_out_ : int
        ``2 * n_components * d``, ``d`` the reduced descriptor length.

    Notes
    -----
    ``X`` is a sequence of 2-D arrays, one per image, of shape (n_patches_i, n_features):
    images differ in how many patches they have, so the input is not one table (the
    scikit-learn checks of 2-D tables do not apply). ``sample_weight`` at ``fit`` weighs
    the images when descriptors are drawn, so that every (source, label) cell can count
    alike.
    """

    def __init__(self, n_components=64, *, pca_components=64, max_descriptors=100_000,
                 random_state=0):
        self.n_components = n_components
        self.pca_components = pca_components
        self.max_descriptors = max_descriptors
        self.random_state = random_state

    def fit(self, X, y=None, sample_weight=None):
        """Learn the PCA and the mixture from a sample of the images' descriptors.

        Parameters
        ----------
        X : sequence of ndarray of shape (n_patches_i, n_features)
        y : ignored
        sample_weight : array-like of shape (n_images,), optional
            Each image's share of the sampled descriptors is proportional to its weight.

        Returns
        -------
        self : FisherVectorEncoder
        """
        sets = _check_sets(X)
        rng = np.random.default_rng(self.random_state)
        weight = (np.ones(len(sets)) if sample_weight is None
                  else np.asarray(sample_weight, dtype=np.float64))
        if weight.shape != (len(sets),) or (weight < 0).any():
            raise ValueError("sample_weight must hold one non-negative weight per image")
        counts = np.array([len(s) for s in sets])
        total = counts.sum()
        if total < self.n_components:
            raise ValueError(f"{total} descriptors cannot fit {self.n_components} Gaussians")
        # Descriptors drawn per image: proportional to its weight, at most all it has.
        share = weight * (counts > 0)
        want = self.max_descriptors * share / share.sum() if share.sum() else counts
        take = np.minimum(counts, np.ceil(want).astype(int))
        sample = np.vstack([s[rng.choice(len(s), k, replace=False)]
                            for s, k in zip(sets, take) if k]).astype(np.float64)
        self.n_features_in_ = sample.shape[1]
        self.pca_ = None
        if self.pca_components is not None and self.pca_components < self.n_features_in_:
            self.pca_ = PCA(self.pca_components, random_state=self.random_state).fit(sample)
            sample = self.pca_.transform(sample)
        self.gmm_ = GaussianMixture(self.n_components, covariance_type="diag",
                                    reg_covar=1e-4, max_iter=100,
                                    random_state=self.random_state).fit(sample)
        self.n_features_out_ = 2 * self.n_components * sample.shape[1]
        return self

    def _reduce(self, descriptors):
        if descriptors.shape[1] != self.n_features_in_:
            raise ValueError(f"descriptors have {descriptors.shape[1]} features, the encoder "
                             f"was fitted on {self.n_features_in_}")
        if self.pca_ is None:
            return descriptors
        # PCA.transform without its per-call validation (a few hundred patches per image).
        return (descriptors - self.pca_.mean_) @ self.pca_.components_.T

    def _posteriors(self, x):
        """Posterior of each Gaussian for each reduced patch, shape (n_patches, K): the
        mixture's predict_proba as three matrix products (the same numbers)."""
        gmm = self.gmm_
        precision = 1.0 / gmm.covariances_  # (K, d)
        log_p = -0.5 * ((x * x) @ precision.T - 2.0 * x @ (gmm.means_ * precision).T
                        + (gmm.means_ ** 2 * precision).sum(axis=1))
        log_p += np.log(gmm.weights_) - 0.5 * np.log(2 * np.pi * gmm.covariances_).sum(axis=1)
        log_p -= log_p.max(axis=1, keepdims=True)
        p = np.exp(log_p)
        return p / p.sum(axis=1, keepdims=True)

    def patch_terms(self, descriptors):
        """Each patch's term of the Fisher vector before normalisation.

        Parameters
        ----------
        descriptors : ndarray of shape (n_patches, n_features)

        Returns
        -------
        terms : ndarray of shape (n_patches, n_features_out_)
            Their mean over the patches is the raw (unnormalised) Fisher vector, so a
            linear score ``w @ raw`` is the mean of ``terms @ w``: one share per patch.
        """
        check_is_fitted(self, "gmm_")
        x = self._reduce(np.asarray(descriptors, dtype=np.float64))
        gmm = self.gmm_
        gamma = self._posteriors(x)  # (T, K)
        sigma = np.sqrt(gmm.covariances_)  # (K, d)
        z = (x[:, None, :] - gmm.means_[None]) / sigma[None]  # (T, K, d)
        g_mean = gamma[:, :, None] * z / np.sqrt(gmm.weights_)[None, :, None]
        g_var = gamma[:, :, None] * (z ** 2 - 1) / np.sqrt(2 * gmm.weights_)[None, :, None]
        return np.concatenate([g_mean.reshape(len(x), -1), g_var.reshape(len(x), -1)], axis=1)

    def raw(self, descriptors):
        """The Fisher vector of one image before normalisation, shape (n_features_out_,)
        (zeros for an image without patches)."""
        check_is_fitted(self, "gmm_")
        descriptors = np.asarray(descriptors, dtype=np.float64)
        if not len(descriptors):
            return np.zeros(self.n_features_out_)
        if descriptors.ndim != 2:
            raise ValueError("descriptors must be a 2-D array (n_patches, n_features)")
        # The mean of patch_terms from the posteriors' sufficient statistics: a few
        # matrix products instead of a (patches x Gaussians x dimensions) array.
        x = self._reduce(descriptors)
        gmm, n = self.gmm_, len(x)
        gamma = self._posteriors(x)
        s0 = gamma.sum(axis=0)[:, None]  # (K, 1)
        s1 = gamma.T @ x  # (K, d)
        s2 = gamma.T @ (x * x)
        mu, var = gmm.means_, gmm.covariances_
        g_mean = (s1 - mu * s0) / (np.sqrt(var) * n * np.sqrt(gmm.weights_)[:, None])
        g_var = ((s2 - 2 * mu * s1 + mu * mu * s0) / var - s0) / (
            n * np.sqrt(2 * gmm.weights_)[:, None])
        return np.concatenate([g_mean.ravel(), g_var.ravel()])

    def transform(self, X):
        """The improved Fisher vector of each image.

        Parameters
        ----------
        X : sequence of ndarray of shape (n_patches_i, n_features)

        Returns
        -------
        fisher : ndarray of shape (n_images, n_features_out_), float64
            Signed square root, then L2-normalised; zeros for an image without patches.
        """
        check_is_fitted(self, "gmm_")
        out = np.vstack([self.raw(s) for s in _check_sets(X)]) if len(X) else np.zeros(
            (0, self.n_features_out_))
        out = np.sign(out) * np.sqrt(np.abs(out))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)

    def get_feature_names_out(self, input_features=None):
        """``fisher.mean_<k>_<j>`` then ``fisher.var_<k>_<j>``: Gaussian k, dimension j.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "gmm_")
        k, d = self.gmm_.means_.shape
        names = [f"fisher.{part}_{i}_{j}" for part in ("mean", "var")
                 for i in range(k) for j in range(d)]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = []
        return tags


def _check_sets(X):
    """``X`` as a list of 2-D float64 arrays of one width, one per image."""
    if isinstance(X, np.ndarray) and X.ndim == 2:
        raise ValueError("X is one table; pass a sequence of descriptor arrays, one per image")
    # Kept in their own dtype (uint8 SIFT is 8 times smaller than float64): each image
    # is converted when it is encoded, not the whole set at once.
    sets = [np.asarray(s) for s in X]
    if any(s.dtype.kind not in "uif" for s in sets):
        raise ValueError("descriptors must be numbers")
    if any(s.ndim != 2 for s in sets):
        raise ValueError("each image's descriptors must be a 2-D array (n_patches, n_features)")
    widths = {s.shape[1] for s in sets if len(s)}
    if len(widths) > 1:
        raise ValueError(f"descriptors of different lengths: {sorted(widths)}")
    if any(s.dtype.kind == "f" and not np.isfinite(s).all() for s in sets):
        raise ValueError("descriptors must be finite")
    return sets
