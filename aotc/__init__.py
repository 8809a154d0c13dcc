"""aotc: ahead-of-time compiler from LiteRT models to interpreter-free C99, verified bit-exact.

    compiled = aotc.compile("model.tflite", target="generic", out_dir="build/model")
    result = aotc.verify("model.tflite", target="generic", inputs=20, seed=0)
    assert result.bit_exact, result.summary()
"""
__version__ = "0.1.0"

from .errors import AotcError, ModelError, UnsupportedError  # noqa: E402,F401
from .compiler import compile  # noqa: E402,F401
# Bound after the submodule import so that `aotc.verify` is the function, not the module.
from .verify import VerifyResult, verify  # noqa: E402,F401
__all__ = ["AotcError", "ModelError", "UnsupportedError", "compile", "verify", "VerifyResult", "__version__"]
