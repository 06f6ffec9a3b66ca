"""Value extractors: which values does a response express (given its prompt)?"""

from .base import Annotation, ValueExtractor, extractors, make_extractor

__all__ = ["Annotation", "ValueExtractor", "extractors", "make_extractor"]
