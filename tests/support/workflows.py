"""A workflow with an activity and a timer: what the end-to-end tests run on real clusters."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def compose_greeting(name: str) -> str:
    """The activity: runs in the test's worker."""
    return f"Hello, {name}!"


@workflow.defn
class GreetingWorkflow:
    """Sleeps `delay_seconds` on a durable timer, then greets through the activity."""

    @workflow.run
    async def run(self, name: str, delay_seconds: float = 0) -> str:
        if delay_seconds:
            await workflow.sleep(timedelta(seconds=delay_seconds))
        return await workflow.execute_activity(
            compose_greeting, name, start_to_close_timeout=timedelta(seconds=30)
        )
