"""A participant's own data: "my data" (see, download, correct, withdraw consent, delete)
and the retention purge. Each domain contributes through ``eventhub.privacy.registry``."""
