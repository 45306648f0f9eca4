"""A stand-in for WeChat's server API in tests (see standin.py)."""
