"""Backups inside ``watchkeeper serve``: take each backup on its schedule and prune it by its keep
rules, and restore-test the newest copy on the verification schedule.

A first start takes a scheduled backup at once (there is none to be late against); after downtime
each missed schedule runs once. One backup that fails is logged and recorded, and the others go on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from watchkeeper.backups.jobs import Job, claim, is_due, job_states, release
from watchkeeper.backups.runner import prune, run_backup
from watchkeeper.backups.sources import BackupError
from watchkeeper.backups.verify import VerifyOutcome, latest_good, verify_latest
from watchkeeper.config.backups import Backup
from watchkeeper.config.schedules import Schedule, parse_schedule
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets

log = logging.getLogger("watchkeeper.backups")

HOLD_MARGIN = 300.0
"""Seconds a claim outlives a backup's timeout, for the prune or restore around the dump."""


@functools.lru_cache(maxsize=1024)
def _schedule(text: str, tz: str) -> Schedule:
    """Return the schedule ``text`` in the zone ``tz``, parsed once per pair."""
    return parse_schedule(text, ZoneInfo(tz))


def _verify_schedule(backup: Backup) -> str | None:
    return backup.verify.schedule if backup.verify else None


class BackupWorker:
    """Runs the config's backups and their restore tests when their schedules say."""

    def __init__(self, engine: Engine, config: Config, config_dir: Path, secrets: Secrets) -> None:
        self.engine = engine
        self.config = config
        self.config_dir = config_dir
        self.secrets = secrets

    def set_config(self, config: Config) -> None:
        """Use a reloaded config from the next step on."""
        self.config = config

    async def step(self, now: datetime) -> int:
        """Take the backups and run the restore tests that are due at ``now``; return how many ran."""
        config = self.config
        tz = config.defaults.timezone
        # One read of every job's state; only jobs due or never seen are claimed (a write each).
        began = time.monotonic()
        states = await asyncio.to_thread(job_states, self.engine)
        ran = 0
        for job in (Job.TAKE, Job.VERIFY):
            for backup in config.backups:
                text = backup.schedule if job is Job.TAKE else _verify_schedule(backup)
                if text is None:
                    continue
                schedule = _schedule(text, tz)
                state = states.get((backup.name, job))
                if state is not None and not is_due(state, schedule, now):
                    continue
                if job is Job.VERIFY and not await asyncio.to_thread(self._has_copy, backup):
                    continue  # due, and stays due until there is a copy to test
                # A job after an hour-long dump starts an hour later: its times say so.
                started = now + timedelta(seconds=time.monotonic() - began)
                hold = backup.timeout + HOLD_MARGIN
                claimed = await asyncio.to_thread(
                    claim, self.engine, backup.name, job, schedule, started, hold
                )
                if claimed is None:
                    continue
                ran += 1
                if job is Job.TAKE:
                    await self._take(backup, started, ZoneInfo(tz))
                else:
                    await self._verify(backup, started)
        return ran

    def _has_copy(self, backup: Backup) -> bool:
        with self.engine.connect() as connection:
            return latest_good(connection, backup.name) is not None

    async def _take(self, backup: Backup, now: datetime, tz: ZoneInfo) -> None:
        try:
            await run_backup(self.engine, backup, self.config_dir, self.secrets, now)
        except BackupError as exc:
            log.error("backup %s failed: %s", backup.name, self.secrets.redact(str(exc)))
        except Exception:
            log.exception("backup %s failed unexpectedly", backup.name)
        else:
            try:
                await asyncio.to_thread(prune, self.engine, backup, tz, now)
            except Exception:
                log.exception("backup %s was taken, but pruning it failed", backup.name)
        finally:
            await asyncio.to_thread(release, self.engine, backup.name, Job.TAKE, now)

    async def _verify(self, backup: Backup, now: datetime) -> None:
        try:
            result = await verify_latest(self.engine, backup, self.config_dir, self.secrets, now)
        except BackupError as exc:
            log.error("restore test of %s failed: %s", backup.name, self.secrets.redact(str(exc)))
        except Exception:
            log.exception("restore test of %s failed unexpectedly", backup.name)
        else:
            if result is None:
                log.warning("restore test of %s: no good backup to test yet", backup.name)
            elif result.outcome is VerifyOutcome.FAILED:
                log.error("restore test of %s failed: %s", backup.name, result.detail)
            else:
                log.info(
                    "restore test of %s passed (restored in %.2fs)",
                    backup.name,
                    result.restore_seconds or 0.0,
                )
        finally:
            await asyncio.to_thread(release, self.engine, backup.name, Job.VERIFY, now)
