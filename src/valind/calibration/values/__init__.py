"""Calibration of the value extractors: labelled sets, fitting the learned heads, figures."""
