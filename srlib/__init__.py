"""srlib: single-image super-resolution for Keras/TensorFlow.

Submodules are imported on demand (``from srlib import resize``); importing
``srlib`` itself stays cheap so that ``python -m srlib --help`` answers at once.
"""

__version__ = "0.1.0"
