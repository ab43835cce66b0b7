"""referral additions: information a practice adds to an open referral (issue 14)

Revision ID: 4eb0cfaea7d8
Revises: 5d418642dc92
Create Date: 2026-12-03 15:12:16.899434

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4eb0cfaea7d8'
down_revision = '5d418642dc92'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('referral_addition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('from_practice_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_label', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('urgency', sa.Enum('routine', 'urgent', name='urgency', native_enum=False, create_constraint=True, length=15), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_referral_addition_author_id_user_account')),
    sa.ForeignKeyConstraint(['from_practice_id'], ['practice.id'], name=op.f('fk_referral_addition_from_practice_id_practice')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_addition_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_addition'))
    )
    with op.batch_alter_table('referral_addition', schema=None) as batch_op:
        batch_op.create_index('ix_referral_addition_referral_at', ['referral_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('referral_addition', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_addition_referral_at')

    op.drop_table('referral_addition')
