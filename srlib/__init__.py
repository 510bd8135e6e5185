"""srlib: single-image super-resolution for Keras/TensorFlow.

Submodules are imported on demand (``from srlib import resize``); importing
``srlib`` itself stays cheap so that ``python -m srlib --help`` answers at once.
"""

__version__ = "0.1.0"

import os as _os

# TensorFlow's C++ start-up chatter (CPU instruction sets, missing CUDA) buries the
# tables this package prints; errors still show. Set the variable yourself to override.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
