"""The web application: wires every domain's API and pages into one FastAPI app. Holds no business logic."""
