"""Voice: audio decoding, streaming transcription and the speech models a socket uses."""
