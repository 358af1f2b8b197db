"""Payments: 全銀 総合振込 files (issue #5), and later batches, approvals and bank results."""
