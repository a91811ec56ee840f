"""The one exception type the CLI turns into a one-line error and a non-zero exit."""


class AnglerError(Exception):
    """A problem with the user's input or environment, reported without a stack trace."""
