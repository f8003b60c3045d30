"""Projection tables of the shifts domain: planned shifts, attendance records and breaks."""

from __future__ import annotations

import sqlalchemy as sa

from schema.tables.base import UTCDateTime, metadata, store_id_column

shifts = sa.Table(
    "shifts",
    metadata,
    store_id_column(),
    sa.Column("shift_id", sa.Uuid, nullable=False),
    sa.Column("user_id", sa.Uuid, nullable=False, comment="staff.user_id of who works it"),
    sa.Column("day", sa.Date, nullable=False, comment="store-local day"),
    sa.Column("start_time", sa.Time, nullable=False, comment="store-local start"),
    sa.Column("end_time", sa.Time, nullable=False, comment="store-local end"),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False, comment="planned length"),
    # Not "window": a reserved word in SQL (window functions) on both SQLite and PostgreSQL.
    sa.Column("window_code", sa.String(64), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column(
        "status",
        sa.String(16),
        nullable=False,
        comment="planned | started | completed | cancelled (absent is derived in reads)",
    ),
    sa.Column("attendance_id", sa.Uuid, nullable=True, comment="record that clocked in for it"),
    sa.Column("batch_id", sa.Uuid, nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    sa.Column("absence_reason", sa.Text, nullable=True),
    sa.Column("planned_by", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "shift_id"),
    sa.Index("ix_shifts_store_day", "store_id", "day"),
    sa.Index("ix_shifts_store_user_day", "store_id", "user_id", "day"),
)

attendance_records = sa.Table(
    "attendance_records",
    metadata,
    store_id_column(),
    sa.Column("attendance_id", sa.Uuid, nullable=False),
    sa.Column("user_id", sa.Uuid, nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local day of the clock-in"),
    sa.Column("shift_id", sa.Uuid, nullable=True, comment="null: unplanned work"),
    sa.Column("clock_in_at", UTCDateTime, nullable=False),
    sa.Column("clock_out_at", UTCDateTime, nullable=True, comment="null while clocked in"),
    sa.Column("late_minutes", sa.Integer, nullable=False),
    sa.Column("early_minutes", sa.Integer, nullable=False, comment="0 until clocked out"),
    sa.Column("break_minutes", sa.Integer, nullable=False),
    sa.Column("worked_minutes", sa.Integer, nullable=True, comment="set at clock-out"),
    sa.Column("open_break_id", sa.Uuid, nullable=True, comment="the break in progress"),
    sa.Column("clock_in_by", sa.String(64), nullable=False),
    sa.Column("clock_in_note", sa.Text, nullable=True, comment="why a manager clocked in"),
    sa.Column("clock_out_by", sa.String(64), nullable=True),
    sa.Column("clock_out_note", sa.Text, nullable=True, comment="why a manager clocked out"),
    sa.Column("late_reason", sa.Text, nullable=True),
    sa.Column("early_reason", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "attendance_id"),
    sa.Index("ix_attendance_records_store_day", "store_id", "day"),
    sa.Index("ix_attendance_records_store_user_day", "store_id", "user_id", "day"),
)

attendance_breaks = sa.Table(
    "attendance_breaks",
    metadata,
    store_id_column(),
    sa.Column("break_id", sa.Uuid, nullable=False),
    sa.Column("attendance_id", sa.Uuid, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True, comment="null while on break"),
    sa.Column("minutes", sa.Integer, nullable=True, comment="whole minutes, set at the end"),
    sa.PrimaryKeyConstraint("store_id", "break_id"),
    sa.Index("ix_attendance_breaks_store_attendance", "store_id", "attendance_id"),
)
