"""What every domain's ``api`` and ``views`` modules share: the runtime, sign-in and permission checks, templates,
navigation and error responses. Domains import this; only ``kiban.web`` assembles the application."""
