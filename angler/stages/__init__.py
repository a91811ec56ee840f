"""One thin module per pipeline stage: parse arguments, call the logic, write outputs.

Each `main` imports its logic (Spark, pandas, Great Expectations) when it runs, so that
`angler --help` and the CLI's import stay instant.
"""
