"""Anthropomorphism judges: which of AnthroBench's 14 behaviours does a response show?"""
