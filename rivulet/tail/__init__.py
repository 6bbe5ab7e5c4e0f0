"""`rivulet tail`: follow a table's stream in the terminal, like `tail -f`."""

from rivulet.tail.command import tail

__all__ = ["tail"]
