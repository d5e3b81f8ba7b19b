"""registrations: a short scan code printed under the badge's scan QR

Typed by an exhibitor when the phone's camera fails: eight characters of Crockford's
base32, unique within the event. Existing registrations get one here.

Revision ID: 3c1d7a52e9b4
Revises: 0a9043cb48c2
Create Date: 2026-12-06 05:20:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3c1d7a52e9b4'
down_revision = '0a9043cb48c2'
branch_labels = None
depends_on = None

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_code', sa.String(length=8), nullable=True))
    registrations = sa.table('registrations', sa.column('id', sa.Integer),
                             sa.column('event_id', sa.Integer),
                             sa.column('scan_code', sa.String))
    conn = op.get_bind()
    taken: dict[int, set[str]] = {}
    for row_id, event_id in conn.execute(sa.select(registrations.c.id,
                                                   registrations.c.event_id)).all():
        codes = taken.setdefault(event_id, set())
        code = None
        while code is None or code in codes:
            code = "".join(secrets.choice(ALPHABET) for _ in range(8))
        codes.add(code)
        conn.execute(registrations.update().where(registrations.c.id == row_id)
                     .values(scan_code=code))
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_registrations_event_scan_code',
                                          ['event_id', 'scan_code'])


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint('uq_registrations_event_scan_code', type_='unique')
        batch_op.drop_column('scan_code')
