"""The sample rate of every clip respgen writes and reads, defined once: 16 kHz, the paper's rate and the
one AST's filterbank expects. Torch-free, so configs can name it without importing torch."""

SAMPLE_RATE = 16000
