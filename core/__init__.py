"""What every part of Bobbin stands on: settings, logging, the database, the embedded servers,
secrets, mail and the advisory locks. Nothing here imports from the rest of Bobbin (services,
connectors, schedules, tasks, the CLI): those import from here, never the other way round."""
