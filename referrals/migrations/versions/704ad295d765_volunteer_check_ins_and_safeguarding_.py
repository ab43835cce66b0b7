"""volunteer check-ins and safeguarding concerns (issue 15, matching)

Revision ID: 704ad295d765
Revises: 3e0efbf1ea50
Create Date: 2026-12-03 18:31:42.855949

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '704ad295d765'
down_revision = '3e0efbf1ea50'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('safeguarding_concern',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('concern', sa.Text(), nullable=False),
    sa.Column('immediate_danger', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hub_emailed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('contact_phone', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_safeguarding_concern_connection_id_connection')),
    sa.ForeignKeyConstraint(['match_id'], ['volunteer_match.id'], name=op.f('fk_safeguarding_concern_match_id_volunteer_match')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['user_account.id'], name=op.f('fk_safeguarding_concern_raised_by_id_user_account')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_safeguarding_concern_referral_id_referral')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_safeguarding_concern_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safeguarding_concern'))
    )
    with op.batch_alter_table('safeguarding_concern', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safeguarding_concern_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index('ix_safeguarding_concern_team_raised', ['team_id', 'raised_at'], unique=False)

    op.create_table('volunteer_check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Enum('going_well', 'some_concerns', 'not_working', name='ck_volunteer_check_in_rating', native_enum=False, create_constraint=True, length=21), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('next_check_in_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['match_id'], ['volunteer_match.id'], name=op.f('fk_volunteer_check_in_match_id_volunteer_match')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_volunteer_check_in_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_check_in'))
    )
    with op.batch_alter_table('volunteer_check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_check_in_match_id'), ['match_id'], unique=False)


def downgrade():
    with op.batch_alter_table('volunteer_check_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_check_in_match_id'))
    op.drop_table('volunteer_check_in')
    with op.batch_alter_table('safeguarding_concern', schema=None) as batch_op:
        batch_op.drop_index('ix_safeguarding_concern_team_raised')
        batch_op.drop_index(batch_op.f('ix_safeguarding_concern_referral_id'))
    op.drop_table('safeguarding_concern')
