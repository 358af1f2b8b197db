"""Platform core: tenancy, database, identity and roles, audit, parameters, Japanese text, money and dates."""
