"""Projection tables of daily operations (日常运营) and training (培训).

All names carry the ``ops_`` prefix: "faults", "trainings" or "checklists" are generic enough
that another domain could want them.
"""

from __future__ import annotations

import sqlalchemy as sa

from schema.tables.base import UTCDateTime, metadata, store_id_column

# ---------------------------------------------------------------- opening checklist

ops_checklists = sa.Table(
    "ops_checklists",
    metadata,
    store_id_column(),
    sa.Column("checklist_id", sa.Uuid, nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local day"),
    sa.Column("status", sa.String(16), nullable=False, comment="open | completed"),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("started_by", sa.String(64), nullable=False),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Column("completed_by", sa.String(64), nullable=True),
    sa.Column("not_ok_count", sa.Integer, nullable=True, comment="set on completion"),
    sa.Column(
        "minutes_after_open",
        sa.Integer,
        nullable=True,
        comment="completion minus opening time, minutes; negative = before opening",
    ),
    sa.PrimaryKeyConstraint("store_id", "checklist_id"),
    # One checklist per store-local day: the start command relies on it.
    sa.UniqueConstraint("store_id", "day"),
)

ops_checklist_items = sa.Table(
    "ops_checklist_items",
    metadata,
    store_id_column(),
    sa.Column("checklist_id", sa.Uuid, nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("position", sa.SmallInteger, nullable=False, comment="display order"),
    sa.Column("label", sa.String(120), nullable=False),
    sa.Column("equipment", sa.String(32), nullable=True, comment="fault kind it checks"),
    sa.Column("status", sa.String(16), nullable=False, comment="unchecked | ok | not_ok"),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("fault_id", sa.Uuid, nullable=True, comment="linked equipment fault"),
    sa.Column("checked_by", sa.String(64), nullable=True),
    sa.Column("checked_at", UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "checklist_id", "code"),
)

# ---------------------------------------------------------------- equipment faults

ops_faults = sa.Table(
    "ops_faults",
    metadata,
    store_id_column(),
    sa.Column("fault_id", sa.Uuid, nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local day of the report"),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("asset_tag", sa.String(64), nullable=True),
    sa.Column("asset_name", sa.String(120), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column(
        "status", sa.String(16), nullable=False, comment="reported | in_repair | repaired | …"
    ),
    sa.Column("reported_at", UTCDateTime, nullable=False),
    sa.Column("reported_by", sa.String(64), nullable=False),
    sa.Column(
        "cycle_started_at",
        UTCDateTime,
        nullable=False,
        comment="report or latest reopening: where the repair clock starts",
    ),
    sa.Column("repair_started_at", UTCDateTime, nullable=True),
    sa.Column("repaired_at", UTCDateTime, nullable=True),
    sa.Column("resolution", sa.Text, nullable=True),
    sa.Column("time_to_repair_s", sa.Integer, nullable=True, comment="latest repair, seconds"),
    sa.Column("reopen_count", sa.SmallInteger, nullable=False),
    sa.Column("closed_reason", sa.Text, nullable=True, comment="why it was cancelled"),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "fault_id"),
    sa.Index("ix_ops_faults_status", "store_id", "status"),
    sa.Index("ix_ops_faults_day", "store_id", "day"),
)

ops_fault_steps = sa.Table(
    "ops_fault_steps",
    metadata,
    store_id_column(),
    sa.Column("fault_id", sa.Uuid, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False, comment="seq of the event in the store log"),
    sa.Column("action", sa.String(32), nullable=False, comment="reported | repair_started | …"),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("time_to_repair_s", sa.Integer, nullable=True, comment="on repaired steps"),
    sa.PrimaryKeyConstraint("store_id", "fault_id", "seq"),
)

# ---------------------------------------------------------------- fire safety

ops_fire_drills = sa.Table(
    "ops_fire_drills",
    metadata,
    store_id_column(),
    sa.Column("drill_id", sa.Uuid, nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local day"),
    sa.Column("start_time", sa.Time, nullable=False, comment="store-local"),
    sa.Column("end_time", sa.Time, nullable=False, comment="store-local"),
    sa.Column("duration_min", sa.Integer, nullable=False),
    sa.Column("scenario", sa.Text, nullable=False),
    sa.Column("findings", sa.Text, nullable=False),
    sa.Column("conducted_by", sa.String(120), nullable=False),
    sa.Column("participant_count", sa.Integer, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "drill_id"),
    sa.Index("ix_ops_fire_drills_day", "store_id", "day"),
)

ops_fire_drill_participants = sa.Table(
    "ops_fire_drill_participants",
    metadata,
    store_id_column(),
    sa.Column("drill_id", sa.Uuid, nullable=False),
    sa.Column("user_id", sa.Uuid, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "drill_id", "user_id"),
)

ops_fire_inspections = sa.Table(
    "ops_fire_inspections",
    metadata,
    store_id_column(),
    sa.Column("inspection_id", sa.Uuid, nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local day"),
    sa.Column("inspector", sa.String(120), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("issues", sa.JSON, nullable=False, comment="list of issue texts"),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "inspection_id"),
    sa.Index("ix_ops_fire_inspections_day", "store_id", "day"),
)

# ---------------------------------------------------------------- training

ops_trainings = sa.Table(
    "ops_trainings",
    metadata,
    store_id_column(),
    sa.Column("session_id", sa.Uuid, nullable=False),
    sa.Column("topic", sa.String(120), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local day"),
    sa.Column("start_time", sa.Time, nullable=False, comment="store-local"),
    sa.Column("duration_min", sa.Integer, nullable=False),
    sa.Column("trainer", sa.String(120), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="planned | completed | cancelled"),
    sa.Column("planned_at", UTCDateTime, nullable=False),
    sa.Column("planned_by", sa.String(64), nullable=False),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Column("cancelled_at", UTCDateTime, nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "session_id"),
    sa.Index("ix_ops_trainings_day", "store_id", "day"),
)

ops_training_attendance = sa.Table(
    "ops_training_attendance",
    metadata,
    store_id_column(),
    sa.Column("session_id", sa.Uuid, nullable=False),
    sa.Column("user_id", sa.Uuid, nullable=False),
    sa.Column("invited", sa.Boolean, nullable=False, comment="false: joined without invitation"),
    sa.Column(
        "status", sa.String(16), nullable=True, comment="present | absent | excused; null = none"
    ),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=True),
    sa.Column("recorded_by", sa.String(64), nullable=True),
    sa.PrimaryKeyConstraint("store_id", "session_id", "user_id"),
    sa.Index("ix_ops_training_attendance_user", "store_id", "user_id"),
)

TABLES = (
    ops_checklists,
    ops_checklist_items,
    ops_faults,
    ops_fault_steps,
    ops_fire_drills,
    ops_fire_drill_participants,
    ops_fire_inspections,
    ops_trainings,
    ops_training_attendance,
)
"""Every projection table of the domain (the replay test compares them all)."""
