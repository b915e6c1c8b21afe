"""The condition language of checks: ``status == 200``, ``latency > 500ms``, ``body matches "ok"``.

A hand-written tokenizer and recursive-descent parser compile a condition once into closures, so
deciding it on a probe's measurements is a handful of function calls. Nothing is ever ``eval``'d.
"""

from watchkeeper.config.expressions.parser import MAX_DEPTH, MAX_LENGTH, Expression, parse
from watchkeeper.config.expressions.tokens import ExpressionError
from watchkeeper.config.expressions.values import EvaluationError, resolve

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "parse",
    "resolve",
]
