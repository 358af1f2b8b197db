"""個人住民税 (individual resident tax): rules, assessment runs and results (issue #4)."""
