"""The matching suggestions' cache of offer facts: shared by a worker's request threads,
so it must stay whole when they use it at once, and bounded whatever the directory."""
from __future__ import annotations

import random
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from referrals.matching import service

START = datetime(2026, 11, 23, tzinfo=UTC)


@dataclass(frozen=True)
class FakeOffer:
    id: str
    updated_at: datetime


class Directory:
    """Stands in for the database: which offers are active now, and when each changed."""

    def __init__(self, size: int):
        self.offers = {f"offer-{n}": START for n in range(size)}
        self.lock = threading.Lock()

    def churn(self, rng: random.Random) -> None:
        with self.lock:
            offer_id = f"offer-{rng.randrange(len(self.offers) + 20)}"
            if offer_id in self.offers and rng.random() < 0.3:
                del self.offers[offer_id]  # retired
            else:
                self.offers[offer_id] = START + timedelta(seconds=rng.randrange(10**6))

    def rows(self):
        with self.lock:
            return list(self.offers.items())


class Session:
    def __init__(self, directory):
        self.directory = directory

    def execute(self, statement):
        rows = self.directory.rows()
        return type("Result", (), {"all": lambda _self: rows})()


@pytest.fixture
def directory(monkeypatch):
    """The service's reads replaced by the fake directory; facts are the offer itself."""
    directory = Directory(200)
    monkeypatch.setattr(service, "db", type("Db", (), {"session": Session(directory)})())

    def load(ids):
        time.sleep(0)  # let another thread in mid-load, as a real query would
        now = dict(directory.rows())
        return [FakeOffer(i, now[i]) for i in ids if i in now]

    monkeypatch.setattr(service, "_load_offers", load)
    monkeypatch.setattr(service, "facts_for", lambda offer: offer)
    monkeypatch.setattr(service, "_facts_cache", type(service._facts_cache)())
    return directory


def test_the_cache_stays_whole_when_request_threads_use_it_at_once(directory, monkeypatch):
    monkeypatch.setattr(service, "FACTS_TTL_SECONDS", 0.0005)  # refresh often
    errors, wrong = [], []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can

    def request(seed: int):
        rng = random.Random(seed)
        try:
            for _ in range(150):
                directory.churn(rng)
                facts = service._active_offer_facts(set())
                ids = [f.id for f in facts]
                if len(ids) != len(set(ids)):  # each offer once
                    wrong.append(ids)
        except Exception as exc:  # noqa: BLE001 - any failure in a thread fails the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=request, args=(seed,)) for seed in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert wrong == []


def test_the_cache_is_bounded_and_the_answer_is_still_the_whole_directory(directory,
                                                                           monkeypatch):
    monkeypatch.setattr(service, "FACTS_CACHE_LIMIT", 50, raising=False)
    first = service._active_offer_facts(set())
    again = service._active_offer_facts({"offer-3"})
    assert len(service._facts_cache) <= 50
    assert {f.id for f in first} == set(directory.offers)
    assert {f.id for f in again} == set(directory.offers) - {"offer-3"}
