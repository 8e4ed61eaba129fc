"""The release scanner: secrets, internal hosts, private addresses and personal data in a
tree or its git history."""
