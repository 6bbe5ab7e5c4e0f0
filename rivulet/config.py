"""Server settings, from CLI flags and RIVULET_* environment variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("rivulet-data")
    log_level: str = "info"
    # ARNs need a region and a 12-digit account (the Kinesis adapter parses them).
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # "full" fsyncs every group commit; "normal" survives a process crash but not a power loss.
    durability: str = "full"
    ttl_interval: float = 30.0
