"""volunteers: a reference or DBS check done by a named person without an account

Revision ID: a7c3d9e2f415
Revises: 704ad295d765
Create Date: 2026-12-03 18:35:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3d9e2f415'
down_revision = '704ad295d765'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('references_checked_by_name', sa.String(length=200),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('dbs_checked_by_name', sa.String(length=200),
                                      server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_column('dbs_checked_by_name')
        batch_op.drop_column('references_checked_by_name')
