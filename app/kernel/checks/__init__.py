"""The check toolkit: what an exercise check may use, and all that a lesson's `checks.py` imports
(besides numpy, torch and the standard library). It runs only inside the learner's kernel.

- `check`, `Verdict`: register a check, `(ns, params) -> (passed, message)`.
- reading learner values: `learner_function`, `number`, `numbers`, `array`, `shown`, `accepts`,
  `signature_problem`, `is_shape_error`, `define_first`, `set_first`;
- comparing: `close` and `error`, one tolerance rule (see `values`), `DEFAULT_TOLERANCE`;
  `compare_calls`, a learner's function against a reference and the known mistakes;
  `call_for_shapes`, a call whose shape errors become the exercise's message;
- formulas from the lesson file: `expression` (and `sigmoid`, which formulas may use);
- known mistakes and their messages from the exercise's `mistakes:`: `Mistakes`, `fill`;
- references: `central_difference`, `SGD`, `Momentum`, `Adam`, `descend`, `step_decay`,
  `exponential_decay`, `inverse_time_decay` (from app/engine, each tested against torch);
- the toolkit's own checks, usable by name from any lesson: `function_matches`,
  `derivative_matches`, `gradient_matches`, `good_fit`.

docs/lessons.md ("Checks of your own") shows a complete custom check.
"""

from app.kernel.checks.bundles import ChecksError, find_check
from app.kernel.checks.compare import Candidate, call_for_shapes, compare_calls
from app.kernel.checks.generic import derivative_matches, function_matches, good_fit
from app.kernel.checks.gradient import gradient_matches
from app.kernel.checks.mistakes import Mistakes, fill
from app.kernel.checks.prediction import choice, prediction
from app.kernel.checks.references import (
    SGD,
    Adam,
    Momentum,
    central_difference,
    descend,
    exponential_decay,
    inverse_time_decay,
    step_decay,
)
from app.kernel.checks.registry import CHECKS, CheckFn, Verdict, check
from app.kernel.checks.values import (
    DEFAULT_TOLERANCE,
    FloatArray,
    accepts,
    array,
    close,
    define_first,
    error,
    expression,
    is_shape_error,
    learner_function,
    number,
    numbers,
    set_first,
    shown,
    sigmoid,
    signature_problem,
)

__all__ = [
    "CHECKS",
    "DEFAULT_TOLERANCE",
    "SGD",
    "Adam",
    "Candidate",
    "CheckFn",
    "ChecksError",
    "FloatArray",
    "Mistakes",
    "Momentum",
    "Verdict",
    "accepts",
    "array",
    "call_for_shapes",
    "central_difference",
    "check",
    "choice",
    "close",
    "compare_calls",
    "define_first",
    "derivative_matches",
    "descend",
    "error",
    "exponential_decay",
    "expression",
    "fill",
    "find_check",
    "function_matches",
    "good_fit",
    "gradient_matches",
    "inverse_time_decay",
    "is_shape_error",
    "learner_function",
    "number",
    "numbers",
    "prediction",
    "set_first",
    "shown",
    "sigmoid",
    "signature_problem",
    "step_decay",
]
