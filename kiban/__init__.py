"""Kiban (基盤): one shared administration platform for Japan's municipalities."""

__version__ = "0.1.0"
