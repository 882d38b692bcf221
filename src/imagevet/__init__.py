"""imagevet: choose cloud server OS images and prove they are fit to deploy."""

__version__ = "0.1.0"

# Before any module defines a dataclass: reuse their compiled methods between runs (classcode.py).
from imagevet import classcode as _classcode

_classcode.install()
