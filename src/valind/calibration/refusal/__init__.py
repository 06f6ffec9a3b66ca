"""Calibration of the refusal judges: labelled refusal sets (XSTest and others) and their figures."""
