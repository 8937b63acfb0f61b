"""The tuneyard example trainer: a scikit-learn MLP on the bundled digits data set."""
