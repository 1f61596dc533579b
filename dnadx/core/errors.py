"""Typed exceptions. Library code raises these; only the CLI turns them into exit codes."""


class DnadxError(Exception):
    """A user-facing error: one clear message naming the file/row/field and the fix.

    ``exit_code`` follows the README error catalogue: 2 usage/input, 3 reference,
    4 data (no reads, nothing usable), 5 environment (disk, lock).
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(DnadxError):
    """Bad or unreadable input file or argument (exit 2)."""

    exit_code = 2


class ReferenceError_(DnadxError):
    """Reference bundle missing, corrupt or mismatched to the input (exit 3)."""

    exit_code = 3


class DataError(DnadxError):
    """Input readable but holds nothing usable (e.g. no reads pass filters) (exit 4)."""

    exit_code = 4


class EnvironmentFault(DnadxError):
    """Disk full, outdir locked by another run (exit 5)."""

    exit_code = 5
