"""What the tests share, in one place: test modules import helpers from here only (never
from each other or from a conftest), and the conftest files hold only fixtures (and
collection hooks).

- ``config``: the app's test settings (``app_config``) and which database this run uses.
- ``db``: a throwaway PostgreSQL database per run, emptying the database between tests.
- ``client``: the test client that sends the CSRF token with form posts; signing in.
- ``factories``: ``make_*`` builders that write straight to the database, form data.
- ``mail``: delivering the outbox and reading the mails back.
- ``polls``: polls, phones that vote, result streams.
- ``door``: the check-in door app's devices, their syncs and what they sent.
- ``privacy_data``: one person's data in every feature (privacy and purge tests).
- ``production``: free ports, a throwaway Redis, app processes, nginx on loopback.
- ``e2e``: the browser journeys' demo event, phone contexts and step checks.
- ``bench``: the benchmarks' percentile and throwaway PostgreSQL databases.
- ``speedups``: a fast password hash, SQLite without fsync, templates compiled once.
"""
