"""away periods: a connector may book several periods away (leave booked ahead)

Revision ID: 5d418642dc92
Revises: 9a41943f828c
Create Date: 2026-12-03 15:20:50.415245

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5d418642dc92'
down_revision = '9a41943f828c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('away_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_away_period_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_away_period_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_away_period'))
    )
    with op.batch_alter_table('away_period', schema=None) as batch_op:
        batch_op.create_index('ix_away_period_user_ends', ['user_id', 'ends_on'], unique=False)

    # Each connector's one period becomes their first; a start alone was a single day.
    op.execute(
        "INSERT INTO away_period (user_id, starts_on, ends_on, note, created_at) "
        "SELECT id, away_from, COALESCE(away_until, away_from), '', CURRENT_TIMESTAMP "
        "FROM user_account WHERE away_from IS NOT NULL"
    )

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('away_from')
        batch_op.drop_column('away_until')


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('away_from', sa.Date(), nullable=True))

    # Only one period each fits the old columns: the one that ends last.
    op.execute(
        "UPDATE user_account SET away_from = (SELECT p.starts_on FROM away_period p "
        "WHERE p.user_id = user_account.id ORDER BY p.ends_on DESC LIMIT 1), "
        "away_until = (SELECT p.ends_on FROM away_period p "
        "WHERE p.user_id = user_account.id ORDER BY p.ends_on DESC LIMIT 1)"
    )

    with op.batch_alter_table('away_period', schema=None) as batch_op:
        batch_op.drop_index('ix_away_period_user_ends')

    op.drop_table('away_period')
