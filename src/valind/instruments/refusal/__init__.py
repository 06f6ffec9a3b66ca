"""Refusal judges: does a response comply with, fully refuse or partially refuse its request (XSTest's classes)?"""
