"""`course reproduce` and `course results`: reference runs on real data, and their tables."""
