"""The organization: credit balance, tier limits and usage, spent the way Runway spends them.

Credits are taken when a task is created (its estimated cost) and given back when it fails or is
cancelled before it was seen RUNNING, so a client's cost display and its "not enough credits"
handling meet the same arithmetic as on Runway. Daily generations count creates in a rolling 24 h.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from typing import Any

from .. import api_surface as api
from .config import SandboxConfig

DAY_SECONDS = 24 * 3600


class Account:
    """Balance, daily generations and per-day credit usage (thread-safe)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self.balance = config.credit_balance
        self._generations: list[float] = []  # epoch seconds of each create
        self._used: dict[str, int] = defaultdict(int)  # UTC date -> net credits

    def reset(self) -> None:
        with self._lock:
            self.balance = self.config.credit_balance
            self._generations.clear()
            self._used.clear()

    def set_balance(self, credits: int) -> None:
        with self._lock:
            self.balance = credits

    def daily_generations(self) -> int:
        cutoff = time.time() - DAY_SECONDS
        with self._lock:
            self._generations = [t for t in self._generations if t > cutoff]
            return len(self._generations)

    def try_spend(self, credits: int) -> str | None:
        """Charge a create; returns None, or "daily" / "credits" when it must be refused."""
        limit = self.config.max_daily_generations
        if limit is not None and self.daily_generations() >= limit:
            return "daily"
        with self._lock:
            if self.balance < credits:
                return "credits"
            self.balance -= credits
            self._generations.append(time.time())
            self._used[_today()] += credits
        return None

    def refund(self, credits: int) -> None:
        with self._lock:
            self.balance += credits
            self._used[_today()] -= credits

    def organization(self) -> dict[str, Any]:
        """``GET /v1/organization``."""
        return {
            "creditBalance": self.balance,
            "tier": {
                "maxMonthlyCreditSpend": self.config.max_monthly_credit_spend,
                "models": {
                    api.MODEL: {
                        "maxConcurrentGenerations": self.config.max_concurrent_generations,
                        "maxDailyGenerations": self.config.max_daily_generations,
                    }
                },
            },
            "usage": {"models": {api.MODEL: {"dailyGenerations": self.daily_generations()}}},
        }

    def usage(self, start: str | None, before: str | None) -> dict[str, Any]:
        """``POST /v1/organization/usage``: per-day credits in [start, before)."""
        today = dt.datetime.now(dt.UTC).date()
        start_d = (
            dt.date.fromisoformat(start) if start else today - dt.timedelta(api.USAGE_DEFAULT_DAYS)
        )
        before_d = (
            dt.date.fromisoformat(before)
            if before
            else start_d + dt.timedelta(api.USAGE_DEFAULT_DAYS)
        )
        with self._lock:
            used = dict(self._used)
        results = []
        day = start_d
        while day < before_d:
            amount = used.get(day.isoformat())
            credits = [{"model": api.MODEL, "amount": amount}] if amount is not None else []
            results.append({"date": day.isoformat(), "usedCredits": credits})
            day += dt.timedelta(1)
        models = [api.MODEL] if any(used.values()) else []
        return {"results": results, "models": models}


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()
