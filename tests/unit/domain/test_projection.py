"""The projector registry loads only projectors: folding (as central does) imports no domain's
commands or reads, and every event type that had a projector before the domain packages still
has one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOMAINS = ("store", "queue", "inventory", "shifts", "complaints", "ops")

PROJECTED_BEFORE = frozenset(
    {
        "adjustment.rejected",
        "adjustment.requested",
        "appointment.booked",
        "appointment.cancelled",
        "appointment.checked_in",
        "appointment.no_show",
        "checklist.completed",
        "checklist.item_checked",
        "checklist.started",
        "clock.break_ended",
        "clock.break_started",
        "clock.in",
        "clock.out",
        "clock.reason_recorded",
        "complaint.assigned",
        "complaint.closed",
        "complaint.escalated",
        "complaint.feedback_recorded",
        "complaint.opened",
        "complaint.reopened",
        "complaint.resolved",
        "complaint.responded",
        "count.cancelled",
        "count.line_recorded",
        "count.opened",
        "fault.cancelled",
        "fault.reopened",
        "fault.repair_started",
        "fault.repaired",
        "fault.reported",
        "fire_drill.recorded",
        "fire_inspection.recorded",
        "item.defined",
        "item.price_changed",
        "shift.absence_explained",
        "shift.cancelled",
        "shift.changed",
        "shift.planned",
        "shift.swapped",
        "staff.added",
        "staff.deactivated",
        "staff.reactivated",
        "staff.role_changed",
        "stock.adjusted",
        "stock.counted",
        "stock.received",
        "stock.returned",
        "stock.sold",
        "stock.transferred_in",
        "stock.transferred_out",
        "stock.written_off",
        "store.configured",
        "store.rules_set",
        "ticket.called",
        "ticket.cancelled",
        "ticket.finished",
        "ticket.issued",
        "ticket.no_show",
        "ticket.rated",
        "ticket.recalled",
        "ticket.serving_started",
        "ticket.transferred",
        "training.attendance_recorded",
        "training.cancelled",
        "training.completed",
        "training.planned",
        "window.changed",
        "window.closed",
        "window.defined",
        "window.opened",
        "window.paused",
        "window.resumed",
    }
)
"""The event types folded into projections when the domains became packages (72)."""

# Run in a fresh interpreter: this test process has imported every domain module already.
_LOAD = """
import json, sys
from schema.events import tag_of
from server.domain import projection
tags = sorted(tag_of(t) for t in projection.projected_types())
modules = sorted(m for m in sys.modules if m.startswith("server.domain"))
print(json.dumps({"tags": tags, "modules": modules}))
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[str]]:
    """What a fresh interpreter holds after loading the registry: projected event tags and
    the server.domain modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def test_loading_the_registry_imports_every_projectors_module(
    loaded: dict[str, list[str]],
) -> None:
    for domain in DOMAINS:
        assert f"server.domain.{domain}.projectors" in loaded["modules"]


def test_loading_the_registry_imports_no_command_or_read(loaded: dict[str, list[str]]) -> None:
    imported = [m for m in loaded["modules"] if {"commands", "reads"} & set(m.split("."))]
    assert imported == []


def test_every_event_type_projected_before_still_has_a_projector(
    loaded: dict[str, list[str]],
) -> None:
    missing = sorted(PROJECTED_BEFORE - set(loaded["tags"]))
    assert missing == []
