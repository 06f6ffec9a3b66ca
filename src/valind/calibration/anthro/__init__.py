"""Calibration of the anthropomorphism judges: the outside-labelled set, fitting the heads, kappa figures."""
