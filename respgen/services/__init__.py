"""The services: one module per command, each a function taking its pydantic config and returning a
result object (`from respgen import prepare, ...` is the public way in). Services sit on top: they may
use every domain package (data, vocoder, classifier, report); nothing below imports them."""
