"""The first register: cases, their profile edits, decision records and the chain's head,
reviews and erasures.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("profile_json", sa.Text, nullable=True),
        sa.Column("profile_sha256", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
    )
    op.create_index("ix_cases_updated_at", "cases", ["updated_at"])
    op.create_table(
        "profile_edits",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("profile_json", sa.Text, nullable=True),
        sa.Column("profile_sha256", sa.String(64), nullable=False),
        sa.Column("edited_at", sa.DateTime, nullable=False),
        sa.Column("edited_by", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_profile_edits"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_profile_edits_case_id_cases"),
        sa.UniqueConstraint("case_id", "version", name="uq_profile_edits_case_id"),
    )
    op.create_table(
        "records",
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("profile_json", sa.Text, nullable=True),
        sa.Column("profile_sha256", sa.String(64), nullable=False),
        sa.Column("kb_hash", sa.Text, nullable=False),
        sa.Column("kb_version", sa.Text, nullable=False),
        sa.Column("policykb_version", sa.Text, nullable=False),
        sa.Column("durable_rules_version", sa.Text, nullable=False),
        sa.Column("as_of", sa.Date, nullable=True),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("result_json", sa.Text, nullable=True),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_records"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_records_case_id_cases"),
    )
    op.create_index("ix_records_case_id", "records", ["case_id"])
    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chain_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("reviewed_by", sa.Text, nullable=False),
        sa.Column("reviewed_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
    )
    op.create_index("ix_reviews_seq", "reviews", ["seq"])
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("erased_at", sa.DateTime, nullable=False),
        sa.Column("erased_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_erasures"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_erasures_case_id_cases"),
    )
    op.create_index("ix_erasures_case_id", "erasures", ["case_id"])


def downgrade() -> None:
    for table in ("erasures", "reviews", "chain_head", "records", "profile_edits", "cases"):
        op.drop_table(table)
