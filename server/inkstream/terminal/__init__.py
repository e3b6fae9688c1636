"""The terminal commands (``inkstream complete|explain|demo``), built on a server subprocess."""
