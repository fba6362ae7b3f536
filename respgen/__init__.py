"""respgen: generated respiratory sounds + adversarial fine-tuning against class imbalance."""

__version__ = "0.1.0"
