"""The outbox and its sender, against real receivers and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.alerting.receivers import SmtpReceiver, WebhookReceiver
from watchkeeper.alerting.channels import AppriseChannel, DeliveryError, NotifyType
from watchkeeper.alerting.outbox import OutboxRow, Sender, backoff, enqueue, now_utc, pending
from watchkeeper.store.store import Store
from watchkeeper.store.tables import delivery_attempts, outbox

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, migrated store on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/watchkeeper.db"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = Store.open(url)
    yield opened
    opened.close()


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    """A JSON webhook receiver, up."""
    async with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def clock() -> Clock:
    """A clock at T0."""
    return Clock()


@pytest.fixture
def sender(store: Store, hook: WebhookReceiver, clock: Clock) -> Sender:
    """A sender with one channel, ``hook``, delivering to the webhook receiver."""
    return Sender(store.engine, {"hook": AppriseChannel("hook", [hook.url()])}, clock=clock)


def add(store: Store, title: str, at: datetime, channel: str = "hook") -> int:
    """Enqueue a message in its own transaction; return its id."""
    with store.engine.begin() as connection:
        return enqueue(connection, channel, title, f"body of {title}", NotifyType.FAILURE, at)


def row(store: Store, message_id: int) -> OutboxRow:
    return next(r for r in pending(store.engine) if r.id == message_id)


def attempts_of(store: Store, message_id: int) -> list[tuple[bool, str | None]]:
    query = (
        select(delivery_attempts.c.ok, delivery_attempts.c.error)
        .where(delivery_attempts.c.outbox_id == message_id)
        .order_by(delivery_attempts.c.id)
    )
    with store.engine.connect() as connection:
        return [(r.ok, r.error) for r in connection.execute(query)]


async def test_a_json_channel_receives_exactly_the_message_once(
    store: Store, hook: WebhookReceiver, sender: Sender
) -> None:
    message_id = add(store, "web is down", T0)

    assert await sender.send_due() == 1
    assert await sender.send_due() == 0

    assert len(hook.received) == 1
    assert hook.received[0]["title"] == "web is down"
    assert hook.received[0]["message"] == "body of web is down"
    assert hook.received[0]["type"] == "failure"
    assert pending(store.engine) == []
    assert attempts_of(store, message_id) == [(True, None)]


async def test_an_smtp_channel_delivers_the_message_by_mail(store: Store, clock: Clock) -> None:
    async with SmtpReceiver() as smtp:
        sender = Sender(store.engine, {"mail": AppriseChannel("mail", [smtp.url()])}, clock=clock)
        add(store, "disk almost full", T0, channel="mail")

        assert await sender.send_due() == 1

    assert smtp.recipients == [["ops@example.com"]]
    mail = smtp.messages[0]
    assert mail["Subject"] == "disk almost full"
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    assert "body of disk almost full" in part.get_content()


async def test_enqueue_is_part_of_the_callers_transaction(store: Store) -> None:
    with store.engine.connect() as connection, connection.begin() as transaction:
        enqueue(connection, "hook", "never decided", "body", NotifyType.INFO, T0)
        transaction.rollback()

    assert pending(store.engine) == []


async def test_a_down_receiver_keeps_the_message_with_the_reason_and_a_backoff(
    store: Store, hook: WebhookReceiver, sender: Sender, clock: Clock
) -> None:
    await hook.down()
    message_id = add(store, "web is down", T0)

    assert await sender.send_due() == 0
    clock.advance(4)
    assert await sender.send_due() == 0  # not due again yet

    waiting = row(store, message_id)
    assert waiting.attempts == 1
    assert waiting.last_error is not None and "503" in waiting.last_error
    assert T0 + timedelta(seconds=4.5) <= waiting.next_attempt_at <= T0 + timedelta(seconds=5.5)
    assert waiting.delivered_at is None and waiting.failed_at is None
    [(ok, error)] = attempts_of(store, message_id)
    assert not ok and error == waiting.last_error


async def test_after_an_outage_every_message_arrives_once_and_in_order(
    store: Store, hook: WebhookReceiver, sender: Sender, clock: Clock
) -> None:
    await hook.down(refuse=True)
    first = add(store, "first", clock.now)
    assert await sender.send_due() == 0
    assert "Connection error" in (row(store, first).last_error or "")

    # Later messages wait behind the first rather than overtake it.
    for title in ("second", "third"):
        clock.advance(1)
        add(store, title, clock.now)
        assert await sender.send_due() == 0
    assert [r.attempts for r in pending(store.engine)] == [1, 0, 0]

    clock.advance(6)
    assert await sender.send_due() == 0
    assert [r.attempts for r in pending(store.engine)] == [2, 0, 0]

    await hook.up()
    clock.advance(backoff(2) * 1.2)
    assert await sender.send_due() == 3
    assert await sender.send_due() == 0

    assert hook.titles == ["first", "second", "third"]
    assert pending(store.engine) == []


async def test_a_message_is_given_up_after_give_up_after(
    store: Store, hook: WebhookReceiver, clock: Clock
) -> None:
    channels = {"hook": AppriseChannel("hook", [hook.url()])}
    sender = Sender(store.engine, channels, give_up_after=60, clock=clock)
    await hook.down()
    message_id = add(store, "lost cause", T0)
    assert await sender.send_due() == 0

    clock.advance(61)
    assert await sender.send_due() == 0
    given_up = row(store, message_id)
    assert given_up.failed_at == clock.now
    assert given_up.attempts == 2

    clock.advance(3600)
    await hook.up()
    add(store, "next one", clock.now)
    assert await sender.send_due() == 1
    assert hook.titles == ["next one"]
    assert len(attempts_of(store, message_id)) == 2


async def test_messages_for_a_channel_removed_from_the_config_fail(
    store: Store, hook: WebhookReceiver, sender: Sender
) -> None:
    message_id = add(store, "orphan", T0)
    sender.set_channels({})

    assert await sender.send_due() == 0

    failed = row(store, message_id)
    assert failed.failed_at == T0
    assert failed.last_error == "channel hook is no longer configured"
    assert hook.received == []
    assert await sender.send_due() == 0


async def test_one_broken_message_does_not_stop_the_others(
    store: Store, hook: WebhookReceiver, clock: Clock
) -> None:
    async with WebhookReceiver() as other:
        channels = {
            "hook": AppriseChannel("hook", [hook.url()]),
            "other": AppriseChannel("other", [other.url()]),
        }
        sender = Sender(store.engine, channels, clock=clock)
        add(store, "before", T0)
        broken = add(store, "broken", T0)
        add(store, "elsewhere", T0, channel="other")
        with store.engine.begin() as connection:
            connection.execute(
                update(outbox).where(outbox.c.id == broken).values(notify_type="shouting")
            )

        assert await sender.send_due() == 2

    assert hook.titles == ["before"]
    assert other.titles == ["elsewhere"]
    failed = row(store, broken)
    assert failed.attempts == 1
    assert (failed.last_error or "").startswith("unexpected error: ValueError")


async def test_wake_makes_run_send_a_new_message_at_once(
    store: Store, hook: WebhookReceiver
) -> None:
    channels = {"hook": AppriseChannel("hook", [hook.url()])}
    # Polls so rare that only the wake event can explain a prompt delivery.
    sender = Sender(store.engine, channels, poll=60)
    wake = asyncio.Event()
    add(store, "already waiting", now_utc())
    running = asyncio.create_task(sender.run(wake))
    await until(lambda: len(hook.received) == 1)

    add(store, "new", now_utc())
    woken = time.monotonic()
    wake.set()
    await until(lambda: len(hook.received) == 2)

    assert time.monotonic() - woken < 1.0
    assert hook.titles == ["already waiting", "new"]
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


def test_backoff_doubles_from_five_seconds_to_ten_minutes_with_jitter() -> None:
    for attempts, nominal in [(1, 5), (2, 10), (3, 20), (4, 40), (7, 320), (8, 600), (500, 600)]:
        delays = [backoff(attempts) for _ in range(50)]
        assert all(nominal * 0.9 <= d <= nominal * 1.1 for d in delays)
        assert len(set(delays)) > 1


async def test_a_delivery_error_says_why_without_the_password(hook: WebhookReceiver) -> None:
    channel = AppriseChannel("hook", [hook.url(auth="watch:hunter2secret@")])
    await hook.down()

    with pytest.raises(DeliveryError) as refused:
        await channel.send("title", "body", NotifyType.WARNING)

    reason = str(refused.value)
    assert reason.startswith("channel hook: json://127.0.0.1: ")
    assert "error=503" in reason
    assert "hunter2secret" not in reason


def test_an_invalid_apprise_url_is_refused_when_the_channel_is_made() -> None:
    with pytest.raises(ValueError, match="channel 'pager': URL 2 is not a valid Apprise URL"):
        AppriseChannel("pager", ["json://127.0.0.1/hook", "nonsense://"])


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Return once ``condition()`` holds; fail if it does not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_delivery_error_never_shows_a_token_from_the_url_path() -> None:
    channel = AppriseChannel("hook", ["json://127.0.0.1:9/hooks/T0KEN5ECRET/x"], timeout=2)
    with pytest.raises(DeliveryError) as caught:
        await channel.send("t", "b", NotifyType.FAILURE)
    assert "T0KEN5ECRET" not in str(caught.value)
    assert "json://127.0.0.1" in str(caught.value)
