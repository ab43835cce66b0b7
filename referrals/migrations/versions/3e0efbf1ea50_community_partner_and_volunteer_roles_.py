"""community: partner and volunteer roles, volunteers, matches, hours, hub calls

Revision ID: 3e0efbf1ea50
Revises: 4eb0cfaea7d8
Create Date: 2026-12-03 18:26:02.914625

"""
import sqlalchemy as sa
from alembic import op

# Roles and connection statuses are CHECKed enums: widening one rewrites its constraint.
OLD_ROLES = ('referrer', 'connector', 'manager', 'coordinator', 'admin')
NEW_ROLES = OLD_ROLES + ('partner', 'volunteer')
OLD_STATUSES = ('suggested', 'accepted', 'attended', 'declined', 'did_not_attend',
                'no_capacity', 'withdrawn')
NEW_STATUSES = OLD_STATUSES + ('taken_on',)
STATUS_COLUMNS = (('connection', 'status', False), ('connection_event', 'from_status', True),
                  ('connection_event', 'to_status', False))


def _enum(values, table, column, length):
    return sa.Enum(*values, name=f'ck_{table}_{column}', native_enum=False,
                   create_constraint=True, length=length)


def _widen(table, column, old, new, length, nullable):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=_enum(old, table, column, length),
                              type_=_enum(new, table, column, length),
                              existing_nullable=nullable)


# revision identifiers, used by Alembic.
revision = '3e0efbf1ea50'
down_revision = '4eb0cfaea7d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('volunteer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('offers', sa.JSON(), nullable=False),
    sa.Column('skills', sa.Text(), nullable=False),
    sa.Column('availability', sa.JSON(), nullable=False),
    sa.Column('availability_note', sa.Text(), nullable=False),
    sa.Column('travel_km', sa.Float(), nullable=True),
    sa.Column('consent_to_contact', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('applied', 'approved', 'declined', 'lapsed', 'left', name='ck_volunteer_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('references_checked_on', sa.Date(), nullable=True),
    sa.Column('references_checked_by_id', sa.Integer(), nullable=True),
    sa.Column('dbs_checked_on', sa.Date(), nullable=True),
    sa.Column('dbs_checked_by_id', sa.Integer(), nullable=True),
    sa.Column('champion_districts', sa.JSON(), nullable=False),
    sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['dbs_checked_by_id'], ['user_account.id'], name=op.f('fk_volunteer_dbs_checked_by_id_user_account')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_volunteer_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['references_checked_by_id'], ['user_account.id'], name=op.f('fk_volunteer_references_checked_by_id_user_account')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_volunteer_team_id_team')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_volunteer_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer')),
    sa.UniqueConstraint('user_id', name=op.f('uq_volunteer_user_id'))
    )
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_team_status', ['team_id', 'status'], unique=False)

    op.create_table('volunteer_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('need', sa.Enum('befriending_calls', 'lifts', 'shopping', 'walking_buddy', 'group_helper', 'skills', name='ck_volunteer_request_need', native_enum=False, create_constraint=True, length=25), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('when', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_volunteer_request_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_volunteer_request_referral_id_referral')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_volunteer_request_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_request'))
    )
    with op.batch_alter_table('volunteer_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_request_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index('ix_volunteer_request_team_status', ['team_id', 'status'], unique=False)

    op.create_table('hub_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('caller_name', sa.String(length=200), nullable=False),
    sa.Column('caller_phone', sa.String(length=30), nullable=False),
    sa.Column('for_someone_else', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('their_agreement', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('person_name', sa.String(length=200), nullable=False),
    sa.Column('need', sa.Text(), nullable=False),
    sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('outcome', sa.Enum('self_referral', 'volunteer_request', 'information', name='ck_hub_call_outcome', native_enum=False, create_constraint=True, length=25), nullable=False),
    sa.Column('information_given', sa.Text(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_hub_call_referral_id_referral')),
    sa.ForeignKeyConstraint(['request_id'], ['volunteer_request.id'], name=op.f('fk_hub_call_request_id_volunteer_request')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['user_account.id'], name=op.f('fk_hub_call_taken_by_id_user_account')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_hub_call_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hub_call'))
    )
    with op.batch_alter_table('hub_call', schema=None) as batch_op:
        batch_op.create_index('ix_hub_call_team_received', ['team_id', 'received_at'], unique=False)

    op.create_table('volunteer_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'declined', 'ended', name='ck_volunteer_match_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_note', sa.Text(), nullable=False),
    sa.Column('next_check_in_on', sa.Date(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['ended_by_id'], ['user_account.id'], name=op.f('fk_volunteer_match_ended_by_id_user_account')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_volunteer_match_proposed_by_id_user_account')),
    sa.ForeignKeyConstraint(['request_id'], ['volunteer_request.id'], name=op.f('fk_volunteer_match_request_id_volunteer_request')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_volunteer_match_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_match'))
    )
    with op.batch_alter_table('volunteer_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_match_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_volunteer_match_volunteer_status', ['volunteer_id', 'status'], unique=False)

    op.create_table('volunteer_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['match_id'], ['volunteer_match.id'], name=op.f('fk_volunteer_hours_match_id_volunteer_match')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_volunteer_hours_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_hours'))
    )
    with op.batch_alter_table('volunteer_hours', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_hours_volunteer_on', ['volunteer_id', 'on'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_user_account_organisation_id_directory_organisation'), 'directory_organisation', ['organisation_id'], ['id'])

    _widen('user_account', 'role', OLD_ROLES, NEW_ROLES, 19, False)
    for table, column, nullable in STATUS_COLUMNS:
        _widen(table, column, OLD_STATUSES, NEW_STATUSES, 22, nullable)


def downgrade():
    op.execute(sa.text("DELETE FROM connection_event WHERE to_status = 'taken_on' "
                       "OR from_status = 'taken_on'"))
    op.execute(sa.text("UPDATE connection SET status = 'accepted' WHERE status = 'taken_on'"))
    op.execute(sa.text("DELETE FROM user_account WHERE role IN ('partner', 'volunteer')"))
    for table, column, nullable in STATUS_COLUMNS:
        _widen(table, column, NEW_STATUSES, OLD_STATUSES, 22, nullable)
    _widen('user_account', 'role', NEW_ROLES, OLD_ROLES, 19, False)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_account_organisation_id_directory_organisation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_account_organisation_id'))
        batch_op.drop_column('organisation_id')

    with op.batch_alter_table('volunteer_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_hours_volunteer_on')

    op.drop_table('volunteer_hours')
    with op.batch_alter_table('volunteer_match', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_match_volunteer_status')
        batch_op.drop_index(batch_op.f('ix_volunteer_match_request_id'))

    op.drop_table('volunteer_match')
    with op.batch_alter_table('hub_call', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_call_team_received')

    op.drop_table('hub_call')
    with op.batch_alter_table('volunteer_request', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_request_team_status')
        batch_op.drop_index(batch_op.f('ix_volunteer_request_referral_id'))

    op.drop_table('volunteer_request')
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_team_status')

    op.drop_table('volunteer')
