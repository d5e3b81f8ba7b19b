"""The schema comes from Alembic revisions, with reference data."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from eventhub.db import managed_by_models
from eventhub.events.models import Organization
from eventhub.extensions import db


def test_upgrade_from_empty_leaves_nothing_pending(app, runner):
    # The test database was built by `upgrade()` from empty: it must match the models.
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_name": managed_by_models})
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


def test_upgrade_keeps_rows_and_backfills_new_columns(tmp_path):
    """A database from the first revision, with data, upgrades to head without loss."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from eventhub import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})
    with app.app_context():
        upgrade(revision="cb8d5a2ca7a7")
        db.session.execute(text(
            "INSERT INTO events (slug, title, description, venue, starts_at, ends_at, status, "
            "join_code, created_at, updated_at) VALUES ('gl', 'Gammel', '', '', "
            "'2026-01-01 09:00', '2026-01-01 16:00', 'published', 'ABCDEF', "
            "'2025-12-01 00:00', '2025-12-01 00:00')"))
        for n in range(3):
            db.session.execute(text(
                "INSERT INTO registrations (event_id, name, email, job_title, status, "
                f"ticket_code, created_at) VALUES (1, 'P{n}', 'p{n}@example.com', '', "
                f"'confirmed', 'code{n}', '2025-12-02 00:00')"))
        db.session.commit()
        upgrade()
        rows = db.session.execute(text(
            "SELECT manage_token, badge_role, source FROM registrations")).all()
        assert len(rows) == 3 and len({r[0] for r in rows}) == 3
        assert all(r[0] and r[1] == "participant" and r[2] == "web" for r in rows)
        downgrade(revision="cb8d5a2ca7a7")  # and back down, rows intact
        assert db.session.execute(text("SELECT count(*) FROM registrations")).scalar() == 3
        db.engine.dispose()
