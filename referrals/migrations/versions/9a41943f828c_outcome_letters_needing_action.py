"""outcome letters needing action: has_actions, who marked them done and when

Revision ID: 9a41943f828c
Revises: 3f1a2b7c9d10
Create Date: 2026-12-03 15:13:33.330691

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9a41943f828c'
down_revision = '3f1a2b7c9d10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outcome_letter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('has_actions', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('actions_done_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('actions_done_by_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outcome_letter_practice_actions', ['practice_id', 'has_actions', 'actions_done_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outcome_letter_actions_done_by_id_user_account'), 'user_account', ['actions_done_by_id'], ['id'])

    # Letters made before this revision: each asked for action when its referral has
    # "Plan and requested actions" for the GP (the nearest record of what it said). Blank
    # is judged in Python, as reports.store.has_gp_actions does: SQL's TRIM keeps newlines.
    letter = sa.table('outcome_letter', sa.column('referral_id', sa.Integer),
                      sa.column('has_actions', sa.Boolean))
    referral = sa.table('referral', sa.column('id', sa.Integer), sa.column('gp_actions', sa.Text))
    bind = op.get_bind()
    asking = [row.id for row in bind.execute(
        sa.select(referral.c.id, referral.c.gp_actions).where(referral.c.gp_actions != ''))
        if row.gp_actions.strip()]
    for start in range(0, len(asking), 500):
        bind.execute(letter.update().where(letter.c.referral_id.in_(asking[start:start + 500]))
                     .values(has_actions=True))

def downgrade():
    with op.batch_alter_table('outcome_letter', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outcome_letter_actions_done_by_id_user_account'), type_='foreignkey')
        batch_op.drop_index('ix_outcome_letter_practice_actions')
        batch_op.drop_column('actions_done_by_id')
        batch_op.drop_column('actions_done_at')
        batch_op.drop_column('has_actions')
