"""Domain logic shared by the store node and central: commands → events → projections."""
