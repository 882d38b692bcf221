"""imagevet: choose cloud server OS images and prove they are fit to deploy."""

__version__ = "0.1.0"
