"""The errors aotc raises on purpose. Anything else escaping is a bug in aotc."""


class AotcError(Exception):
    """Base class: the CLI prints these as one line and exits with status 2."""


class ModelError(AotcError):
    """The .tflite file is malformed, inconsistent or uses something aotc does not support."""


class UnsupportedError(ModelError):
    """A well-formed model uses an op, type or parameter no backend of the target supports."""


class BuildError(AotcError):
    """The generated C did not compile or link on the host."""


class UsageError(AotcError):
    """Bad command-line or API arguments (missing file, unknown target, bad option)."""


def where(op=None, tensor=None) -> str:
    """'op 3 CONV_2D, tensor 7 "conv1/weights"' — the location prefix every model error carries."""
    parts = []
    if op is not None:
        parts.append(f"op {op.index} {op.kind}")
    if tensor is not None:
        parts.append(f'tensor {tensor.index} "{tensor.name}"')
    return ", ".join(parts)
