"""What course authors run: `course build` (goldens, student notebooks, Colab links) and `course publish`."""
