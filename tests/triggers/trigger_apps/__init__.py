"""Real handler modules the trigger tests' servers import (tests/triggers is on their path)."""
