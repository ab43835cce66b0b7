"""sessions that can be ended: user session token, remember-me tokens, throttling indexes

Revision ID: 5e55a1d7f00d
Revises: 4b738dd6d84d
Create Date: 2026-12-03 09:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e55a1d7f00d'
down_revision = '4b738dd6d84d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), server_default='',
                                      nullable=False))
    # Every existing account gets its own token. Sessions from before the upgrade carry
    # none, so everyone signs in once more.
    users = sa.table('user_account', sa.column('id', sa.Integer),
                     sa.column('session_token', sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_token=secrets.token_urlsafe(32)))

    op.create_table('remember_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('selector', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_remember_token_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remember_token')),
    sa.UniqueConstraint('selector', name=op.f('uq_remember_token_selector'))
    )
    with op.batch_alter_table('remember_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remember_token_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_email_at')
        batch_op.create_index('ix_login_attempt_email_ip', ['email', 'ip', 'succeeded', 'at'],
                              unique=False)
        batch_op.create_index('ix_login_attempt_ip', ['ip', 'succeeded', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_ip')
        batch_op.drop_index('ix_login_attempt_email_ip')
        batch_op.create_index('ix_login_attempt_email_at', ['email', 'at'], unique=False)

    with op.batch_alter_table('remember_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remember_token_user_id'))
    op.drop_table('remember_token')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_token')
