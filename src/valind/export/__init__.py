"""Exports of a finished run for other tools: the hub (adapters with model cards), Inspect AI logs, data set cards."""
