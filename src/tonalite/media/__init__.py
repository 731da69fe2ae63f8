"""RTP and audio, sans-IO."""
