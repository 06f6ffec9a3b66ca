"""Sycophancy judges: does a response validate or flatter instead of answering?"""
