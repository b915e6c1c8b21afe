"""Running checks: the evaluator, the runner and the scheduler."""
