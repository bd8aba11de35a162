"""The package's one error type for bad input."""


class TaskError(ValueError):
    """Bad task input (a record, a level, an action, a file); the message names the field or value."""
