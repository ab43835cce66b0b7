"""patient discrepancies: details another practice sent that differ from those stored

Revision ID: d15c4e9a7c01
Revises: 5e55a1d7f00d
Create Date: 2026-12-01 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd15c4e9a7c01'
down_revision = '5e55a1d7f00d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('patient_discrepancy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('source_practice_id', sa.Integer(), nullable=False),
    sa.Column('stored_practice_id', sa.Integer(), nullable=True),
    sa.Column('sent', sa.JSON(), nullable=False),
    sa.Column('stored', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Enum('kept', 'accepted', name='ck_patient_discrepancy_resolution', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_patient_discrepancy_patient_id_patient')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_patient_discrepancy_referral_id_referral')),
    sa.ForeignKeyConstraint(['source_practice_id'], ['practice.id'], name=op.f('fk_patient_discrepancy_source_practice_id_practice')),
    sa.ForeignKeyConstraint(['stored_practice_id'], ['practice.id'], name=op.f('fk_patient_discrepancy_stored_practice_id_practice')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'], name=op.f('fk_patient_discrepancy_resolved_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_discrepancy'))
    )
    with op.batch_alter_table('patient_discrepancy', schema=None) as batch_op:
        batch_op.create_index('ix_patient_discrepancy_open', ['resolved_at', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_discrepancy_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_discrepancy_referral_id'), ['referral_id'], unique=False)


def downgrade():
    with op.batch_alter_table('patient_discrepancy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_discrepancy_referral_id'))
        batch_op.drop_index(batch_op.f('ix_patient_discrepancy_patient_id'))
        batch_op.drop_index('ix_patient_discrepancy_open')

    op.drop_table('patient_discrepancy')
