"""The data types, errors and canonical JSON every other package builds on."""
