"""What the benchmarks (tests/perf/bench_*.py) share: a throwaway PostgreSQL database per
run, and the nearest-rank percentile of their figures."""

from __future__ import annotations

import math
import secrets


def admin_connect(pg_url: str):
    import psycopg

    return psycopg.connect(f"{pg_url}/postgres", autocommit=True)


def create_database(pg_url: str, prefix: str = "eventhub_bench") -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin_connect(pg_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(pg_url: str, name: str) -> None:
    with admin_connect(pg_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(pg_url: str, db_name: str) -> str:
    return pg_url.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{db_name}"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of ``values``; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]
