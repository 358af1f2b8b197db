"""Tenants: every municipality, designated-city ward and prefecture, keyed by its 全国地方公共団体コード."""
