"""Real handler modules and commands the invoker tests run (as `triggers.handlers.<module>`)."""
