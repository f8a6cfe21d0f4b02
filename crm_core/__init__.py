"""The CRM data layer: models, engine, schema migrations and (later) the services that write."""
