"""Training and evaluation on labelled folders, one module per job:

* :mod:`~animefeat.training.tables`: feature rows, degraded copies, patch descriptors,
  near-duplicate groups, weights;
* :mod:`~animefeat.training.evaluation`: splits, cross-validation, leave-one-source-out,
  metrics;
* :mod:`~animefeat.training.search`: the recipe chosen on sources held out, and the
  nested evaluation of that choice;
* :mod:`~animefeat.training.photo`: the drawing-or-photo check and its threshold;
* :mod:`~animefeat.training.report`: the held-out report of a recipe (the card's);
* :mod:`~animefeat.training.fit`: :func:`train`, the model and its card.

Everything public is importable from here.
"""

from .evaluation import (
    CONFIDENT,
    cross_validate,
    expected_calibration_error,
    leave_one_source_out,
    metrics,
    verdict_level,
)
from .fit import train
from .photo import (
    DETECTOR_FAMILIES,
    DRAWING_FAMILIES,
    MAX_DRAWINGS_FLAGGED,
    MAX_SOURCE_FLAGGED,
    drawing_check,
    drawing_check_metrics,
    drawing_held_out,
    drawing_threshold,
    held_out_drawing_check,
)
from .report import (
    EVALUATION_VERSION,
    evaluate_recipe,
    stacked_cross_validate,
    stacked_leave_one_source_out,
    stacked_report,
    structure_fitter,
)
from .search import (
    PARAM_GRID,
    RECIPE_CANDIDATES,
    candidate_recipes,
    nested_leave_one_source_out,
    select_recipe,
)
from .tables import (
    AUGMENT_QUALITY,
    MIN_AUGMENT_SIDE,
    FeatureTable,
    degrade,
    descriptor_sets,
    feature_table,
    near_duplicate_groups,
    source_weights,
    trainable,
    yardsticks,
)

__all__ = [
    "AUGMENT_QUALITY", "CONFIDENT", "DETECTOR_FAMILIES", "DRAWING_FAMILIES",
    "EVALUATION_VERSION", "MAX_DRAWINGS_FLAGGED", "MAX_SOURCE_FLAGGED", "MIN_AUGMENT_SIDE",
    "PARAM_GRID",
    "RECIPE_CANDIDATES", "FeatureTable", "candidate_recipes", "cross_validate", "degrade",
    "descriptor_sets", "drawing_check", "drawing_check_metrics", "drawing_held_out",
    "drawing_threshold", "evaluate_recipe", "expected_calibration_error", "feature_table",
    "held_out_drawing_check", "leave_one_source_out", "metrics", "near_duplicate_groups",
    "nested_leave_one_source_out", "select_recipe", "source_weights",
    "stacked_cross_validate", "stacked_leave_one_source_out", "stacked_report",
    "structure_fitter", "train",
    "trainable",
    "verdict_level", "yardsticks",
]
