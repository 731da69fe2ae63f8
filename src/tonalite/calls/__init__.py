"""The call core: calls, legs, bridges and the media ports features use."""
