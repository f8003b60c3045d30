"""Projection tables of the queue domain (排队叫号): windows, tickets, appointments.

Every row is a fold of the ``window.*``, ``ticket.*`` and ``appointment.*`` events; names carry
a ``queue_`` prefix because "tickets" and "windows" mean other things in other domains.
"""

from __future__ import annotations

import sqlalchemy as sa

from schema.tables.base import UTCDateTime, metadata, store_id_column

queue_windows = sa.Table(
    "queue_windows",
    metadata,
    store_id_column(),
    sa.Column("window_id", sa.Uuid, nullable=False),
    sa.Column("code", sa.String(16), nullable=False, comment="shown above the desk, e.g. W1"),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("categories", sa.JSON, nullable=False, comment="service categories it calls"),
    sa.Column("status", sa.String(8), nullable=False, comment="closed | open | paused"),
    sa.Column("staff", sa.String(64), nullable=True, comment="user name at the window"),
    sa.Column("pause_reason", sa.String(16), nullable=True),
    sa.Column("pause_note", sa.Text, nullable=True),
    sa.Column("status_since", UTCDateTime, nullable=False),
    sa.Column("defined_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "window_id"),
    sa.UniqueConstraint("store_id", "code"),
    sa.Index("ix_queue_windows_staff", "store_id", "staff"),
)

queue_tickets = sa.Table(
    "queue_tickets",
    metadata,
    store_id_column(),
    sa.Column("ticket_id", sa.Uuid, nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local business day of issue"),
    sa.Column("issued_category", sa.String(16), nullable=False, comment="decides the letter"),
    sa.Column("seq_no", sa.Integer, nullable=False, comment="n-th ticket of that category today"),
    sa.Column("number", sa.String(8), nullable=False, comment="e.g. B023"),
    sa.Column("category", sa.String(16), nullable=False, comment="current queue's category"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("vip", sa.Boolean, nullable=False),
    sa.Column("appointment_id", sa.Uuid, nullable=True),
    sa.Column(
        "rank",
        sa.SmallInteger,
        nullable=False,
        comment="call order class: 0 transferred, 1 priority (VIP, appointment), 2 walk-in",
    ),
    sa.Column("phone_masked", sa.String(20), nullable=True),
    sa.Column("phone_hash", sa.String(64), nullable=True),
    sa.Column("issued_at", UTCDateTime, nullable=False),
    sa.Column("queued_at", UTCDateTime, nullable=False, comment="entered its current queue"),
    sa.Column("target_window_id", sa.Uuid, nullable=True, comment="only this window may call"),
    sa.Column("window_id", sa.Uuid, nullable=True, comment="window that called or serves it"),
    sa.Column("called_by", sa.String(64), nullable=True),
    sa.Column("called_at", UTCDateTime, nullable=True, comment="first call: wait = this − issued"),
    sa.Column("last_called_at", UTCDateTime, nullable=True),
    sa.Column("call_count", sa.SmallInteger, nullable=False, comment="calls at current window"),
    sa.Column("wait_seconds", sa.Integer, nullable=True, comment="first call − issue"),
    sa.Column("serving_at", UTCDateTime, nullable=True, comment="latest service start"),
    sa.Column("served_by", sa.String(64), nullable=True),
    sa.Column("service_seconds", sa.Integer, nullable=False, comment="summed over windows"),
    sa.Column("done_at", UTCDateTime, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=True, comment="done, no-show or cancelled"),
    sa.Column("outcome", sa.String(24), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("no_show_reason", sa.String(16), nullable=True),
    sa.Column("cancel_reason", sa.String(24), nullable=True),
    sa.Column("transfer_count", sa.SmallInteger, nullable=False),
    sa.Column("score", sa.SmallInteger, nullable=True, comment="satisfaction 1–5"),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("rated_at", UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "ticket_id"),
    sa.UniqueConstraint("store_id", "day", "issued_category", "seq_no"),
    sa.Index("ix_queue_tickets_day_status", "store_id", "day", "status"),
    sa.Index("ix_queue_tickets_window_status", "store_id", "window_id", "status"),
    sa.Index("ix_queue_tickets_waiting", "store_id", "status", "category", "rank", "queued_at"),
    # The latest calls of the day (the display board, the live state) without sorting the day.
    sa.Index("ix_queue_tickets_recent_calls", "store_id", "day", "last_called_at", "ticket_id"),
)

queue_appointments = sa.Table(
    "queue_appointments",
    metadata,
    store_id_column(),
    sa.Column("appointment_id", sa.Uuid, nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local day of the slot"),
    sa.Column("slot_start", UTCDateTime, nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("customer_name", sa.String(120), nullable=False, comment="masked, e.g. 张*"),
    sa.Column("phone_masked", sa.String(20), nullable=False),
    sa.Column("phone_hash", sa.String(64), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("booked_at", UTCDateTime, nullable=False),
    sa.Column("booked_by", sa.String(64), nullable=False),
    sa.Column("checked_in_at", UTCDateTime, nullable=True),
    sa.Column("ticket_id", sa.Uuid, nullable=True),
    sa.Column("ticket_number", sa.String(8), nullable=True),
    sa.Column("lateness_seconds", sa.Integer, nullable=True, comment="negative when early"),
    sa.Column("cancelled_at", UTCDateTime, nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    sa.Column("no_show_at", UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "appointment_id"),
    sa.Index("ix_queue_appointments_day_status", "store_id", "day", "status"),
    sa.Index("ix_queue_appointments_phone", "store_id", "phone_hash"),
)
