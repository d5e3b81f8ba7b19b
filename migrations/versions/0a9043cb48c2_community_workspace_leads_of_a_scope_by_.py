"""community workspace: leads of a scope by their latest change

The workspace lists an organizing organization's leads newest change first, 100 at a
time; with this index the page is read from the index instead of sorting every lead.

Revision ID: 0a9043cb48c2
Revises: bf4cb2c017b5
Create Date: 2026-12-06 02:58:29.957661

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0a9043cb48c2'
down_revision = 'bf4cb2c017b5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('followup_leads', schema=None) as batch_op:
        batch_op.create_index('ix_followup_leads_scope_updated', ['scope', 'updated_at', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('followup_leads', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_leads_scope_updated')
