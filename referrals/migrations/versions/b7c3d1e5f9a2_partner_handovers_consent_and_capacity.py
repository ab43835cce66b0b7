"""partners: a warm handover's consent to share, and an offer's "no capacity until"

Revision ID: b7c3d1e5f9a2
Revises: 9200eed6f352
Create Date: 2026-12-03 18:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7c3d1e5f9a2'
down_revision = '9200eed6f352'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_with_partner', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('partner_contact', sa.String(length=300),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('handover_note', sa.Text(), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity_returns_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_column('capacity_returns_on')

    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_column('shared_at')
        batch_op.drop_column('handover_note')
        batch_op.drop_column('partner_contact')
        batch_op.drop_column('share_with_partner')
