"""community champions' suggestions (issue 15): a champion's new group or correction,
public only once a coordinator approves it

Revision ID: 9200eed6f352
Revises: a7c3d9e2f415
Create Date: 2026-12-03 18:34:55.342303

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9200eed6f352'
down_revision = 'a7c3d9e2f415'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('champion_suggestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('new_group', 'correction', name='suggestionkind', native_enum=False, create_constraint=True, length=18), nullable=False),
    sa.Column('offer_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('venue', sa.String(length=300), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('when', sa.String(length=500), nullable=False),
    sa.Column('free', sa.Boolean(), nullable=True),
    sa.Column('cost', sa.String(length=500), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='suggestionstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_reason', sa.Text(), nullable=False),
    sa.Column('created_offer_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_champion_suggestion_offer_id_offer')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_champion_suggestion_reviewed_by_id_user_account')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_champion_suggestion_team_id_team')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_champion_suggestion_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_champion_suggestion'))
    )
    with op.batch_alter_table('champion_suggestion', schema=None) as batch_op:
        batch_op.create_index('ix_champion_suggestion_team_status', ['team_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_champion_suggestion_volunteer_id'), ['volunteer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('champion_suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_champion_suggestion_volunteer_id'))
        batch_op.drop_index('ix_champion_suggestion_team_status')
    op.drop_table('champion_suggestion')
