"""Errors the recogniser raises; each message names the file or input and what is wrong."""


class LatexSnipError(Exception):
    """Base class: anything a user should see as a one-line message, never a traceback."""


class CheckpointError(LatexSnipError):
    """A weights file is missing, truncated, corrupt or does not match the model."""


class ImageError(LatexSnipError):
    """An image cannot be read or holds nothing to recognise (empty, blank, too small)."""


class ConfigError(LatexSnipError, ValueError):
    """A setting given on a command line (e.g. JSON overrides of a config) is malformed or unknown."""
