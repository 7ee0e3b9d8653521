"""Graves (2013) networks, mixture density output, model bundles."""
