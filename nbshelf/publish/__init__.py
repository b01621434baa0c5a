"""Publishing to a share: output stripping, markings, the pre-publish scan for secrets, the
share lock, and the atomic write with its conflict check."""
