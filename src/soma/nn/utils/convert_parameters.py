"""parameters_to_vector, vector_to_parameters (issue 3)."""

__all__ = []
