"""`wangua demo`: a realistic, live demonstration on an embedded SQLite database."""
