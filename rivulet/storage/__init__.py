"""Storage backends: the only package with SQL."""
