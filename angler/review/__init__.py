"""Review: the pull-request report, champion/challenger verdict and comment."""
