"""Projection tables of the inventory domain (库存 · 物资).

All of them are folds of the inventory events; nothing here is written by a command directly.
"""

from __future__ import annotations

import sqlalchemy as sa

from schema.tables.base import UTCDateTime, metadata, store_id_column

inventory_items = sa.Table(
    "inventory_items",
    metadata,
    store_id_column(),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("category", sa.String(16), nullable=False, comment="phone, sim, accessory, supply"),
    sa.Column("unit_price_cents", sa.Integer, nullable=False, comment="list price, fen"),
    sa.Column("serialised", sa.Boolean, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "sku"),
    sa.Index("ix_inventory_items_category", "store_id", "category"),
)

# On-hand per SKU: the running sum of every movement's signed delta.
inventory_stock = sa.Table(
    "inventory_stock",
    metadata,
    store_id_column(),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("on_hand", sa.Integer, nullable=False, comment="units"),
    sa.Column("updated_at", UTCDateTime, nullable=False, comment="last movement"),
    sa.PrimaryKeyConstraint("store_id", "sku"),
)

# The stock ledger: one row per SKU line of each movement (a count posting included).
inventory_movements = sa.Table(
    "inventory_movements",
    metadata,
    store_id_column(),
    sa.Column("movement_id", sa.Uuid, nullable=False, comment="adjustment or count id for those"),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False, comment="the event's place in the store log"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("day", sa.Date, nullable=False, comment="store-local business day"),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("qty", sa.Integer, nullable=False, comment="units moved, positive"),
    sa.Column("delta", sa.Integer, nullable=False, comment="signed change to on-hand"),
    sa.Column("on_hand_after", sa.Integer, nullable=False),
    sa.Column("serials", sa.JSON, nullable=False, comment="list of IMEI/ICCID"),
    sa.Column("unit_price_cents", sa.Integer, nullable=True),
    sa.Column("amount_cents", sa.BigInteger, nullable=True, comment="qty x unit price, fen"),
    sa.Column("counterparty", sa.String(120), nullable=False, comment="supplier or other store"),
    sa.Column("reference", sa.String(120), nullable=False),
    sa.Column("reason", sa.String(2000), nullable=False),
    sa.Column("note", sa.String(2000), nullable=False),
    sa.Column("ticket_id", sa.Uuid, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "movement_id", "line_no"),
    sa.Index("ix_inventory_movements_day", "store_id", "day"),
    sa.Index("ix_inventory_movements_sku", "store_id", "sku", "day"),
    sa.Index("ix_inventory_movements_kind", "store_id", "kind", "day"),
)

# One row per serialised unit ever seen by the store: where it is now.
inventory_serials = sa.Table(
    "inventory_serials",
    metadata,
    store_id_column(),
    sa.Column("serial", sa.String(32), nullable=False, comment="IMEI or ICCID"),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("sale_price_cents", sa.Integer, nullable=True, comment="price at its last sale"),
    sa.Column("last_movement_id", sa.Uuid, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "serial"),
    sa.Index("ix_inventory_serials_sku", "store_id", "sku", "status"),
)

# Each serial's movements, for the serial lookup.
inventory_serial_history = sa.Table(
    "inventory_serial_history",
    metadata,
    store_id_column(),
    sa.Column("serial", sa.String(32), nullable=False),
    sa.Column("movement_id", sa.Uuid, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False, comment="the event's place in the store log"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("status_after", sa.String(16), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "serial", "movement_id"),
)

inventory_adjustments = sa.Table(
    "inventory_adjustments",
    metadata,
    store_id_column(),
    sa.Column("adjustment_id", sa.Uuid, nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("delta", sa.Integer, nullable=False, comment="signed units"),
    sa.Column("serials", sa.JSON, nullable=False),
    sa.Column("reason", sa.String(2000), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="pending, approved, rejected"),
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("decision_note", sa.String(2000), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "adjustment_id"),
    sa.Index("ix_inventory_adjustments_status", "store_id", "status"),
)

inventory_counts = sa.Table(
    "inventory_counts",
    metadata,
    store_id_column(),
    sa.Column("count_id", sa.Uuid, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="open, posted, cancelled"),
    sa.Column("all_items", sa.Boolean, nullable=False),
    sa.Column("note", sa.String(2000), nullable=False),
    sa.Column("opened_by", sa.String(64), nullable=False),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("closed_by", sa.String(64), nullable=True),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.Column("posted_day", sa.Date, nullable=True, comment="store-local day of posting"),
    sa.Column("cancel_reason", sa.String(2000), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "count_id"),
    sa.Index("ix_inventory_counts_status", "store_id", "status"),
)

inventory_count_lines = sa.Table(
    "inventory_count_lines",
    metadata,
    store_id_column(),
    sa.Column("count_id", sa.Uuid, nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("counted", sa.Integer, nullable=True, comment="null until recorded"),
    sa.Column("serials", sa.JSON, nullable=False, comment="scanned serials"),
    sa.Column("recorded_by", sa.String(64), nullable=True),
    sa.Column("recorded_at", UTCDateTime, nullable=True),
    sa.Column("book", sa.Integer, nullable=True, comment="on-hand at posting"),
    sa.Column("variance", sa.Integer, nullable=True, comment="counted - book"),
    sa.Column("unit_price_cents", sa.Integer, nullable=True, comment="list price at posting"),
    sa.Column("missing", sa.JSON, nullable=False),
    sa.Column("unexpected", sa.JSON, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "count_id", "sku"),
    sa.Index("ix_inventory_count_lines_sku", "store_id", "sku"),
)
