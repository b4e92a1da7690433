"""Printed documents and archives: confirmations, qualification confirmations and result
announcements with verification codes (R-28a), the signed lot archive (R-32d), and the
PDF form of reports."""
