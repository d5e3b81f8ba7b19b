"""The schema comes from Alembic revisions, with reference data."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from eventhub.events.models import Organization
from eventhub.extensions import db


def test_upgrade_from_empty_leaves_nothing_pending(app, runner):
    # The test database was built by `upgrade()` from empty: it must match the models.
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
    result = runner.invoke(args=["db", "check"])  # what CI and developers run
    assert result.exit_code == 0, result.output


def test_reference_organizations_are_present(app):
    with app.app_context():
        kinds = dict(db.session.execute(
            select(Organization.kind, func.count()).where(Organization.code.is_not(None))
            .group_by(Organization.kind)
        ).all())
        assert kinds == {"municipality": 98, "region": 5}
        per_region = dict(db.session.execute(
            select(Organization.region_code, func.count())
            .where(Organization.kind == "municipality").group_by(Organization.region_code)
        ).all())
        # Nordjylland, Midtjylland, Syddanmark, Hovedstaden, Sjælland
        assert per_region == {"1081": 11, "1082": 19, "1083": 22, "1084": 29, "1085": 17}
        aarhus = db.session.scalar(select(Organization).where(Organization.code == "751"))
        assert (aarhus.name, aarhus.region_code) == ("Aarhus Kommune", "1082")
        assert db.session.scalar(
            select(Organization.name).where(Organization.code == "1084")
        ) == "Region Hovedstaden"
