"""Checks called by the hidden tests of each lab, one module per lab."""
