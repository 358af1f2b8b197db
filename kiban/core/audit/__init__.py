"""The audit log: who touched which personal data, for which 事務, and every refused permission check."""
