"""A goal reached in a visit: its item of a WebSession line, as Avro JSON text from its row."""

from __future__ import annotations

import uuid

from sdehub.dataaccess.avrotext.leaves import double, i, s, stamp
from sdehub.dataaccess.records import GOAL_TYPES, NS, Datum
from sdehub.store.exports import Row


def _goal_metadata(goal: Row, details: Datum) -> str:
    kind = goal["goal_type"]
    if kind == "purchase":
        return (
            f'{{"{NS}.PurchaseMetadata":{{"total":{double(goal["value"])}'
            f',"orderId":{s(details.get("orderId"))},"cartStatus":null}}}}'
        )
    if kind == "lead":
        return (
            f'{{"{NS}.LeadMetaData":{{"topic":{s(details.get("topic"))}'
            f',"leadId":{s(details.get("leadId"))},"value":{double(goal["value"])}}}}}'
        )
    if kind == "serviceActivity":
        return (
            f'{{"{NS}.ServiceActivityMetaData":{{"topic":{s(details.get("topic"))}'
            f',"status":{i(details.get("status"))},"category":{s(details.get("category"))}'
            f',"serviceId":{s(details.get("serviceId"))}}}}}'
        )
    if kind == "pageViews":
        pages = details.get("pages", details.get("numberOfPages"))
        return f'{{"{NS}.ReduceAbandonmentGoalMetadata":{{"numberOfPages":{i(pages)}}}}}'
    return (
        f'{{"{NS}.IncreaseInteractionGoalMetadata":{{"engagement":{s(goal["engagement_id"])}'
        f',"campaign":{s(goal["campaign_id"])}}}}}'
    )


def goal_item(goal: Row) -> str:
    """One goal's ``AchievedGoal`` item of a WebSession line (the store keeps it with the goal)."""
    details = goal["details"] or {}
    # A uuid, as documented; derived from the row so re-exports give the same one.
    found = uuid.uuid5(uuid.NAMESPACE_URL, f"sdehub:{goal['account_id']}:{goal['id']}")
    return (
        f'{{"id":{{"string":"{found}"}},"timestamp":{stamp(goal["reached_ms"])}'
        f',"campaignGoalId":{s(goal["goal_id"])}'
        f',"campaignGoalRevision":{i(details.get("revision"))}'
        f',"campaignGoalType":{i(GOAL_TYPES.get(goal["goal_type"]))}'
        f',"goalMetaData":{_goal_metadata(goal, details)}}}'
    )
