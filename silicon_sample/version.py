"""The package version: one place, read by the build (hatch) and by run manifests."""

__version__ = "0.1.0"
