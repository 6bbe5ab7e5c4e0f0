"""`python -m rivulet` runs the CLI."""

from rivulet.cli import main

main()
