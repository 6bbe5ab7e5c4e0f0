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
    # 0 disables the dedicated streams listener (the main port always serves both APIs).
    streams_port: int = 8001
    stream_shards: int = 4
    shard_rotation: float = 4 * 3600.0
    stream_retention: float = 24 * 3600.0
    get_records_wait: float = 0.02
    trim_interval: float = 60.0
    master_key_file: Path | None = None
    master_key: str | None = None  # base64, from RIVULET_MASTER_KEY only (never a CLI flag)
    trigger_config: Path | None = None  # TOML file of [[triggers]] (--config)
    run_triggers: bool = True  # False when `rivulet worker` processes run them instead
    lease_ttl: float = 10.0
