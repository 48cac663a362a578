"""Exceptions raised by robojax for bad input; the CLI turns them into a one-line error and exit code 2."""


class RobojaxError(Exception):
    """Base class for user-facing errors (bad config, unknown env, bad checkpoint)."""


class ConfigError(RobojaxError, ValueError):
    """A config field is unknown, has the wrong type, or an invalid value."""


class EnvError(RobojaxError, ValueError):
    """An environment id is unknown or an optional simulator is missing."""


class CheckpointError(RobojaxError):
    """A checkpoint is missing, corrupt or does not match the run it is loaded into."""


class RunDirError(RobojaxError):
    """A run directory is in use by another process, cannot be written, or already holds another run."""


class NonFiniteError(RobojaxError):
    """Training produced NaN or infinite losses, gradients or parameters (the run stops before saving them)."""


class DistributedError(RobojaxError):
    """A multi-process run cannot start or lost a process (``jax.distributed``)."""


class SimulatorStateError(RobojaxError):
    """A host simulator's state cannot be saved in a checkpoint or put back into a simulator."""
