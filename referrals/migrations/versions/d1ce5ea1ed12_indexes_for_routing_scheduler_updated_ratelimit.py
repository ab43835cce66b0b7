"""indexes for routing, the scheduler, _lastUpdated searches and the rate limit

Routing reads a connector's open caseload and recent referrals, not their whole history
(connector + status, connector + created_at, which also serve every lookup the single
connector_id index did); the scheduler reads only referrals still waiting for a first
contact; FHIR _lastUpdated searches read by practice + updated_at (Procedure: by the
connection's updated_at); and the self-referral rate limit reads one client's rows by a
dedicated `origin` column instead of filtering every audit event of the day on JSON.

Revision ID: d1ce5ea1ed12
Revises: d15c4e9a7c01
Create Date: 2026-12-03 09:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd1ce5ea1ed12'
down_revision = 'd15c4e9a7c01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_connector_id')
        batch_op.create_index('ix_referral_connector_status', ['connector_id', 'status'],
                              unique=False)
        batch_op.create_index('ix_referral_connector_created', ['connector_id', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_referral_first_contact_due', ['first_contact_due'],
                              unique=False,
                              sqlite_where=sa.text('first_contact_at IS NULL'),
                              postgresql_where=sa.text('first_contact_at IS NULL'))
        batch_op.create_index('ix_referral_practice_updated', ['practice_id', 'updated_at'],
                              unique=False)

    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.create_index('ix_connection_updated_at', ['updated_at'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=80), nullable=True))

    # Self-referrals made before this revision kept their client only in the detail JSON.
    bind = op.get_bind()
    origin = ("detail ->> 'origin'" if bind.dialect.name == 'postgresql'
              else "json_extract(detail, '$.origin')")
    op.execute(f"UPDATE audit_event SET origin = {origin} "
               "WHERE action = 'create' AND entity_type = 'referral' "
               f"AND {origin} IS NOT NULL")

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_origin_at', ['origin', 'at'], unique=False,
                              sqlite_where=sa.text('origin IS NOT NULL'),
                              postgresql_where=sa.text('origin IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_origin_at')
        batch_op.drop_column('origin')

    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_index('ix_connection_updated_at')

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_practice_updated')
        batch_op.drop_index('ix_referral_first_contact_due')
        batch_op.drop_index('ix_referral_connector_created')
        batch_op.drop_index('ix_referral_connector_status')
        batch_op.create_index('ix_referral_connector_id', ['connector_id'], unique=False)
