"""The job-run framework against moto: leases, run records, watermarks and cursors."""

from datetime import UTC, datetime, timedelta

import pytest

from shopsync.errors import JobAlreadyRunning
from shopsync.jobs import runner
from shopsync.jobs.runner import Completed, JobContext, JobDefinition, Suspended
from shopsync.models.jobs import JobInvocation, JobName, RunStatus
from shopsync.store import jobs as job_store
from tests.factories import register_shop_record

PLENTY_OF_TIME_MS = 600_000


def definition(body) -> JobDefinition:
    return JobDefinition(
        name=JobName.PRODUCT_IMPORT, body=body, check_shop=lambda shop: None, scheduled_shops=lambda: []
    )


def run_for(body, shop_id="s1", params=None, time_remaining_ms=lambda: PLENTY_OF_TIME_MS):
    invocation = JobInvocation(source="schedule", shop_id=shop_id, params=params or {})
    return runner.execute(definition(body), invocation, time_remaining_ms)


@pytest.fixture(autouse=True)
def shop(aws_table):
    return register_shop_record("s1")


def test_second_concurrent_run_is_refused_with_the_running_run_id():
    # Given: a run queued by the API holds the lease
    first = runner.queue_run(definition(lambda ctx: Completed(None)), "s1", {}, datetime.now(UTC))
    # When: another "run now" arrives for the same job and store
    with pytest.raises(JobAlreadyRunning) as refused:
        runner.queue_run(definition(lambda ctx: Completed(None)), "s1", {}, datetime.now(UTC))
    # Then: it is refused, naming the run that holds the lease
    assert refused.value.running_run_id == first.run_id
    # And: a scheduled run skips the store instead of overlapping
    assert run_for(lambda ctx: Completed(None)) == []


def test_finished_run_records_counts_and_advances_the_watermark():
    def body(ctx: JobContext):
        ctx.counts.add(read=3, written=2, skipped=1)
        return Completed(watermark=ctx.window_end)

    (run,) = run_for(body)
    stored = job_store.get_run(run.run_id)
    assert stored.status is RunStatus.FINISHED and stored.completed
    assert (stored.counts.read, stored.counts.written, stored.counts.skipped) == (3, 2, 1)
    assert job_store.get_watermark(JobName.PRODUCT_IMPORT, "s1") == stored.watermark == stored.started_at
    # the lease is free again
    assert len(run_for(lambda ctx: Completed(None))) == 1


def test_failure_is_recorded_and_the_watermark_does_not_move():
    run_for(lambda ctx: Completed(watermark=ctx.window_end))
    before = job_store.get_watermark(JobName.PRODUCT_IMPORT, "s1")

    def failing(ctx: JobContext):
        ctx.record_failure("gid://shopify/Product/9", "title missing")
        raise RuntimeError("Shopify answered 503 five times")

    with pytest.raises(runner.RunFailed) as failed:
        run_for(failing)
    stored = job_store.get_run(failed.value.run.run_id)
    assert stored.status is RunStatus.FAILED
    assert stored.error == "RuntimeError: Shopify answered 503 five times"
    assert stored.failed_records[0].reason == "title missing"
    assert job_store.get_watermark(JobName.PRODUCT_IMPORT, "s1") == before
    assert len(run_for(lambda ctx: Completed(None))) == 1  # lease released after the failure


def test_suspended_run_leaves_a_cursor_the_next_run_resumes_in_the_same_window():
    seen = []

    def paged(ctx: JobContext):
        seen.append((ctx.resume_state, ctx.window_end))
        if ctx.resume_state is None:
            ctx.counts.add(read=1)
            return Suspended({"after": "cursor-1"})
        return Completed(watermark=ctx.window_end)

    (first,) = run_for(paged)
    assert not job_store.get_run(first.run_id).completed
    assert job_store.get_watermark(JobName.PRODUCT_IMPORT, "s1") is None  # not advanced by a partial run
    (second,) = run_for(paged)
    assert job_store.get_run(second.run_id).completed
    assert seen[1][0] == {"after": "cursor-1"}
    assert seen[1][1] == seen[0][1], "the resumed run keeps the interrupted run's window"
    assert job_store.get_watermark(JobName.PRODUCT_IMPORT, "s1") == seen[0][1]
    assert job_store.get_cursor(JobName.PRODUCT_IMPORT, "s1") is None


def test_deadline_is_seen_through_the_context():
    def body(ctx: JobContext):
        return Suspended({"stopped": True}) if ctx.should_stop() else Completed(None)

    (run,) = run_for(body, time_remaining_ms=lambda: 5_000)  # less than the deadline margin
    assert not job_store.get_run(run.run_id).completed


def test_a_crashed_run_is_marked_failed_when_its_expired_lease_is_taken_over():
    # Given: a run took the lease long ago and never finished (Lambda killed mid-run)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    crashed = runner.queue_run(definition(lambda ctx: Completed(None)), "s1", {}, long_ago)
    # When: the next scheduled run starts
    (run,) = run_for(lambda ctx: Completed(None))
    # Then: it runs, and the crashed one is recorded as failed with the reason
    assert run.status is RunStatus.FINISHED
    stored = job_store.get_run(crashed.run_id)
    assert stored.status is RunStatus.FAILED and "lease expired" in stored.error


def test_watermark_never_moves_backwards():
    later = datetime(2026, 6, 1, tzinfo=UTC)
    job_store.save_watermark(JobName.PRODUCT_IMPORT, "s1", later, "run-new")
    job_store.save_watermark(JobName.PRODUCT_IMPORT, "s1", later - timedelta(days=1), "run-old")
    assert job_store.get_watermark(JobName.PRODUCT_IMPORT, "s1") == later


def test_duplicate_invocation_of_a_started_run_does_nothing():
    queued = runner.queue_run(definition(lambda ctx: Completed(None)), "s1", {}, datetime.now(UTC))
    calls = []
    body = definition(lambda ctx: calls.append(1) or Completed(None))
    invocation = JobInvocation(source="api", run_id=queued.run_id, shop_id="s1")
    runner.execute(body, invocation, lambda: PLENTY_OF_TIME_MS)
    runner.execute(body, invocation, lambda: PLENTY_OF_TIME_MS)
    assert calls == [1]
