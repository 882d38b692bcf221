"""An index for the latest report of a kind per image (details pages and rescans).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reports_image_schema", "reports", ["image_version_id", "schema"])


def downgrade() -> None:
    op.drop_index("ix_reports_image_schema", table_name="reports")
